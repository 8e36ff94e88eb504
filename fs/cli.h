#pragma once
// The shoal command line (DESIGN §1): mount, umount, fsck, cse (client-side
// encryption, crypto/CSE_FORMAT.md), --version, --help.

namespace shoal::fs {

// Runs the command; returns the process exit code. Failures print one line
// saying what is wrong and how to mend it.
int RunCli(int argc, char** argv);

}  // namespace shoal::fs
