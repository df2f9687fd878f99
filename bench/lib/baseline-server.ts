// Baseline servers, each in its own process (forked by bench/broker.ts) like a broker would be:
//
//   discard      bare loopback in: read and drop every byte the client writes
//   source <s>   bare loopback out: write 1 MiB chunks to the client for <s> seconds, then close
//                → the ceiling for fetch, which moves data in this direction
//   file <path>  bare TCP-to-file pipe: append each chunk with fs.writeSync  → the ceiling for produce (acks=1)
//   null-broker  frame Produce requests, decode them with Umbra's codecs and answer each with an encoded
//                ProduceResponse, storing nothing → what the load generator can drive, and what a Node broker's
//                network and codec layers cost before storage
//
// Each is written the plain way (socket 'data' events), as the simplest Node program doing the job would be.
// Prints nothing; reports its port over IPC and exits when the parent disconnects.

import fs from 'node:fs';
import net from 'node:net';
import { Reader, Writer } from '../../src/protocol/primitives.js';
import { ApiKey } from '../../src/protocol/generated/api.js';
import { readRequestHeader } from '../../src/protocol/generated/messages/RequestHeader.js';
import { writeResponseHeader } from '../../src/protocol/generated/messages/ResponseHeader.js';
import { readProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import { writeProduceResponse, type TopicProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import type { Input } from '../../src/protocol/primitives.js';
import { FrameAssembler, isFlexible } from './wire.js';

export type BaselineMode = 'discard' | 'source' | 'file' | 'null-broker';

function discard(socket: net.Socket): void {
  socket.on('data', () => {});
  socket.on('end', () => socket.end());
}

function source(seconds: number): (socket: net.Socket) => void {
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  return (socket) => {
    const stopAt = performance.now() + seconds * 1000;
    const write = () => {
      while (performance.now() < stopAt) {
        if (!socket.write(chunk)) {
          socket.once('drain', write);
          return;
        }
      }
      socket.end();
    };
    write();
  };
}

function appendToFile(fd: number): (socket: net.Socket) => void {
  return (socket) => {
    socket.on('data', (chunk: Buffer) => {
      let off = 0;
      while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
    });
    socket.on('end', () => socket.end());
  };
}

function nullBroker(socket: net.Socket): void {
  const nextOffset = new Map<string, number>();

  const answer = (frame: Buffer): Buffer | null => {
    const r = new Reader(frame);
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    if (apiKey !== ApiKey.Produce) throw new Error(`null broker: API key ${apiKey} is not Produce`);
    const flexible = isFlexible(apiKey, version);
    const header = readRequestHeader(r, flexible ? 2 : 1);
    const req = readProduceRequest(r, version);
    if (req.acks === 0) return null;
    const responses: Input<TopicProduceResponse>[] = req.topicData.map((t) => ({
      name: t.name,
      partitionResponses: t.partitionData.map((p) => {
        const key = `${t.name}/${p.index}`;
        const base = nextOffset.get(key) ?? 0;
        const count = p.records && p.records.length >= 61 ? p.records.readInt32BE(57) : 0;
        nextOffset.set(key, base + count);
        return { index: p.index, errorCode: 0, baseOffset: base, logAppendTimeMs: -1, logStartOffset: 0 };
      }),
    }));
    const w = new Writer(256);
    w.int32(0);
    writeResponseHeader(w, flexible ? 1 : 0, { correlationId: header.correlationId });
    writeProduceResponse(w, version, { responses });
    const out = w.toBuffer();
    out.writeInt32BE(out.length - 4, 0);
    return out;
  };

  // Frames are assembled in one reused buffer (a copy at memcpy speed) rather than by Buffer.concat per frame,
  // which would touch fresh memory for every request.
  const assembler = new FrameAssembler(4 << 20, (frame) => {
    const reply = answer(frame);
    if (reply) socket.write(reply);
  });
  socket.on('data', (chunk: Buffer) => {
    socket.cork();
    for (let off = 0; off < chunk.length; ) {
      const n = chunk.copy(assembler.nextReadBuffer(), 0, off);
      off += n;
      assembler.onRead(n);
    }
    socket.uncork();
  });
  socket.on('end', () => socket.end());
}

function main(): void {
  const mode = process.argv[2] as BaselineMode;
  let handler: (socket: net.Socket) => void;
  if (mode === 'discard') handler = discard;
  else if (mode === 'source') handler = source(Number(process.argv[3]));
  else if (mode === 'file') handler = appendToFile(fs.openSync(process.argv[3]!, 'w'));
  else if (mode === 'null-broker') handler = nullBroker;
  else throw new Error(`unknown baseline mode ${mode}`);

  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    handler(socket);
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address() as net.AddressInfo;
    process.send?.({ port: addr.port });
  });
  process.on('disconnect', () => process.exit(0));
}

main();
