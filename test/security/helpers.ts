// Shared by the security tests: temporary data directories, a logger that keeps every line, a bare connection,
// and an independent SCRAM client written straight from RFC 5802 (so the server is not only checked against
// Umbra's own ScramClient).
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../src/cluster/embedded-store.js';
import type { MetadataStore } from '../../src/cluster/types.js';
import type { SaslConnection, SecurityLogger } from '../../src/security/types.js';

export function tempDir(t: { after(fn: () => void): void }, prefix = 'umbra-security-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function openStore(t: { after(fn: () => Promise<void> | void): void }, dir: string): Promise<MetadataStore> {
  const store = await openEmbeddedStore(dir, { nodeId: 0 });
  t.after(() => store.close());
  return store;
}

export interface CapturedLogger extends SecurityLogger {
  lines: { level: string; obj: object; msg: string }[];
  /** every line as JSON text, for greps */
  text(): string;
}

export function captureLogger(): CapturedLogger {
  const lines: CapturedLogger['lines'] = [];
  const push = (level: string) => (obj: object, msg: string) => {
    lines.push({ level, obj, msg });
  };
  return {
    lines,
    info: push('info'),
    warn: push('warn'),
    debug: push('debug'),
    text: () => lines.map((l) => JSON.stringify({ level: l.level, ...l.obj, msg: l.msg })).join('\n'),
  };
}

export function fakeConnection(): SaslConnection {
  return { id: 7, remoteAddress: '192.0.2.10', remotePort: 53210, principal: 'User:ANONYMOUS', authenticated: false };
}

/** Every byte of every file under dir, as latin1 text (to grep for secrets in any encoding we store). */
export function readTree(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out += readTree(p);
    else out += readFileSync(p).toString('latin1');
  }
  return out;
}

/** A SCRAM client from the RFC's formulas, independent of src/security/scram.ts. */
export class RfcScramClient {
  private readonly hashName: 'sha256' | 'sha512';
  private readonly keyLen: number;
  readonly nonce: string;
  private bare = '';
  serverSignature: Buffer | null = null;

  constructor(
    hashName: 'sha256' | 'sha512',
    private readonly user: string,
    private readonly password: string,
    nonce?: string,
  ) {
    this.hashName = hashName;
    this.keyLen = hashName === 'sha256' ? 32 : 64;
    this.nonce = nonce ?? randomBytes(18).toString('base64');
  }

  first(gs2 = 'n,,'): Buffer {
    this.bare = `n=${this.user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${this.nonce}`;
    return Buffer.from(gs2 + this.bare);
  }

  final(serverFirst: Buffer, opts: { gs2?: string; nonceOverride?: string; tamper?: boolean } = {}): Buffer {
    const sf = serverFirst.toString();
    const attrs = Object.fromEntries(sf.split(',').map((a) => [a[0], a.slice(2)])) as Record<string, string>;
    const salted = pbkdf2Sync(this.password, Buffer.from(attrs.s!, 'base64'), Number(attrs.i), this.keyLen, this.hashName);
    const clientKey = createHmac(this.hashName, salted).update('Client Key').digest();
    const storedKey = createHash(this.hashName).update(clientKey).digest();
    const withoutProof = `c=${Buffer.from(opts.gs2 ?? 'n,,').toString('base64')},r=${opts.nonceOverride ?? attrs.r}`;
    const auth = `${this.bare},${sf},${withoutProof}`;
    const sig = createHmac(this.hashName, storedKey).update(auth).digest();
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ sig[i]!;
    if (opts.tamper) proof[0]! ^= 1;
    this.serverSignature = createHmac(this.hashName, createHmac(this.hashName, salted).update('Server Key').digest()).update(auth).digest();
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`);
  }
}
