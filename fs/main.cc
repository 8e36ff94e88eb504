#include "fs/cli.h"

int main(int argc, char** argv) {
  return shoal::fs::RunCli(argc, argv);
}
