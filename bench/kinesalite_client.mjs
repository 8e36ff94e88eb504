// The Kinesis workload's client for its emulator peer, kinesalite
// (scripts/bench): the AWS SDK for JavaScript v3 against a kinesalite on
// loopback, with the records of bench/stream_writer.cc (the same 99 bytes of
// JSON, random partition keys).
//
//   node bench/kinesalite_client.mjs NPM_DIR ENDPOINT STREAM create SHARDS
//   node bench/kinesalite_client.mjs NPM_DIR ENDPOINT STREAM put single|batched N [WRITERS]
//   node bench/kinesalite_client.mjs NPM_DIR ENDPOINT STREAM read
//
// NPM_DIR holds node_modules (bench/package.json installed there). create
// makes the stream and waits until it is ACTIVE. put: single is one
// PutRecord call per record; batched is PutRecords of 500 records a call;
// WRITERS (default 1) concurrent callers share the N records. Prints one JSON
// line as shoal_stream_writer does (latencies per call). read reads every
// shard from TRIM_HORIZON to its end with GetRecords (10,000 a call) and
// prints records, seconds and records_per_s. Any failed call or failed
// record ends the run with exit 1. Credentials are dummies (kinesalite
// checks none); retries are off so that nothing is hidden. scripts/bench runs
// it with --no-warnings (the SDK warns about node versions on stderr).
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { Agent } from "node:http";
import { performance } from "node:perf_hooks";

const [npmDir, endpoint, stream, command, ...args] = process.argv.slice(2);
if (!npmDir || !endpoint || !stream || !command) {
  console.error("usage: kinesalite_client.mjs NPM_DIR ENDPOINT STREAM create|put|read ...");
  process.exit(2);
}
const require = createRequire(`${npmDir}/package.json`);
const sdk = require("@aws-sdk/client-kinesis");
const { NodeHttpHandler } = require("@smithy/node-http-handler");
const client = new sdk.KinesisClient({
  endpoint,
  // HTTP/1.1 with keep-alive: the Kinesis client defaults to HTTP/2, which
  // kinesalite does not speak.
  requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true }) }),
  region: "us-east-1",
  credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  maxAttempts: 1,
});

const RECORD_BYTES = 100; // with the newline shoal's records file needs

// The record of bench/stream_writer.cc's AppendRecord, without its newline.
function record(seq) {
  const device = String((seq * 7919) % 10000).padStart(4, "0");
  const tenths = 100 + ((seq * 37) % 200);
  let s = `{"device":"d${device}","seq":${seq},"temp":${Math.floor(tenths / 10)}.${tenths % 10},"pad":"`;
  for (let k = seq; s.length < RECORD_BYTES - 3; k++) s += String.fromCharCode(97 + (k % 26));
  return Buffer.from(s + '"}');
}
const key = () => randomBytes(16).toString("hex");

function percentile(sorted, q) {
  if (sorted.length === 0) return 0;
  return sorted[Math.round(q * (sorted.length - 1))];
}

async function create(shards) {
  await client.send(new sdk.CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
  for (let i = 0; i < 600; i++) {
    const d = await client.send(new sdk.DescribeStreamCommand({ StreamName: stream }));
    if (d.StreamDescription.StreamStatus === "ACTIVE") return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${stream} did not become ACTIVE`);
}

async function put(mode, total, writers) {
  const perCall = mode === "single" ? 1 : 500;
  const latencies = [];
  const perWriter = [];
  let next = 0; // the next record's seq, shared by the callers
  const t0 = performance.now();
  async function writer(count) {
    const start = performance.now();
    let done = 0;
    while (done < count) {
      const n = Math.min(perCall, count - done);
      const first = next;
      next += n;
      const t = performance.now();
      if (mode === "single") {
        await client.send(
          new sdk.PutRecordCommand({ StreamName: stream, PartitionKey: key(), Data: record(first) }),
        );
      } else {
        const records = [];
        for (let i = 0; i < n; i++) records.push({ PartitionKey: key(), Data: record(first + i) });
        const out = await client.send(new sdk.PutRecordsCommand({ StreamName: stream, Records: records }));
        if (out.FailedRecordCount) {
          const failed = out.Records.find((r) => r.ErrorCode);
          throw new Error(`PutRecords: ${out.FailedRecordCount} records failed (${failed.ErrorCode})`);
        }
      }
      latencies.push((performance.now() - t) * 1000);
      done += n;
    }
    perWriter.push(count / ((performance.now() - start) / 1000));
  }
  const calls = [];
  for (let w = 0; w < writers; w++) {
    calls.push(writer(Math.floor(total / writers) + (w < total % writers ? 1 : 0)));
  }
  await Promise.all(calls);
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const r1 = (v) => Math.round(v * 10) / 10;
  console.log(
    JSON.stringify({
      mode,
      writers,
      records: total,
      bytes: total * RECORD_BYTES,
      writes: latencies.length,
      seconds: Math.round(seconds * 1e6) / 1e6,
      records_per_s: r1(total / seconds),
      mib_per_s: Math.round(((total * RECORD_BYTES) / seconds / 1048576) * 100) / 100,
      p50_us: r1(percentile(latencies, 0.5)),
      p99_us: r1(percentile(latencies, 0.99)),
      max_us: r1(latencies[latencies.length - 1] ?? 0),
      writer_records_per_s: perWriter.map(r1),
    }),
  );
}

async function read() {
  const t0 = performance.now();
  const d = await client.send(new sdk.DescribeStreamCommand({ StreamName: stream }));
  let records = 0;
  for (const shard of d.StreamDescription.Shards) {
    let it = (
      await client.send(
        new sdk.GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard.ShardId,
          ShardIteratorType: "TRIM_HORIZON",
        }),
      )
    ).ShardIterator;
    for (;;) {
      const out = await client.send(new sdk.GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
      records += out.Records.length;
      it = out.NextShardIterator;
      if (out.Records.length === 0 && out.MillisBehindLatest === 0) break;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ records, seconds: Math.round(seconds * 1e6) / 1e6, records_per_s: Math.round((records / seconds) * 10) / 10 }));
}

try {
  if (command === "create") await create(Number(args[0] ?? 1));
  else if (command === "put") await put(args[0], Number(args[1]), Number(args[2] ?? 1));
  else if (command === "read") await read();
  else throw new Error(`unknown command ${command}`);
} catch (e) {
  console.error(`kinesalite_client: ${command}: ${e.name}: ${e.message}`);
  process.exit(1);
}
