/**
 * `npm run certs -- --out <dir> [--force] [--days N] [--san DNS:node1,IP:10.0.0.1]`: a private
 * CA and certificates signed by it, made with the openssl CLI, for tests and for trying TLS
 * locally (docs/operations.md, "TLS"). Production should use its own PKI; these keys sit
 * unencrypted in `<dir>`.
 *
 *   ca.pem, ca-key.pem          the CA (`--tls-ca-file`; clients trust it)
 *   node.pem, node-key.pem      a node (`--tls-cert-file`, `--tls-key-file`): SAN IP:127.0.0.1,
 *                               DNS:localhost and `--san`; serverAuth and clientAuth, because
 *                               on the bus every node is both ends
 *   client.pem, client-key.pem  a client, for `--tls-auth-clients yes`
 *
 * Existing files are never overwritten without `--force`: overwriting a CA silently would
 * leave every certificate it signed untrusted.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface Args {
  out: string;
  force: boolean;
  days: number;
  extraSans: string[];
}

const OUTPUTS = ['ca.pem', 'ca-key.pem', 'node.pem', 'node-key.pem', 'client.pem', 'client-key.pem'];
const USAGE = 'usage: make-test-certs --out <dir> [--force] [--days N] [--san DNS:name,IP:addr]';

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { out: '', force: false, days: 365, extraSans: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) fail(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--out') args.out = resolve(value());
    else if (flag === '--force') args.force = true;
    else if (flag === '--days') args.days = Number(value());
    else if (flag === '--san')
      args.extraSans.push(
        ...value()
          .split(',')
          .filter((s) => s !== ''),
      );
    else fail(`unknown argument ${flag}\n${USAGE}`);
  }
  if (args.out === '') fail(USAGE);
  if (!Number.isInteger(args.days) || args.days < 1) fail('--days must be a whole number of days, 1 or more');
  for (const san of args.extraSans) {
    if (!/^(DNS|IP):\S+$/.test(san)) fail(`--san ${san}: expected DNS:<name> or IP:<address>`);
  }
  return args;
}

function fail(message: string): never {
  process.stderr.write(`make-test-certs: ${message}\n`);
  process.exit(1);
}

/** `openssl req` arguments for a new, unencrypted P-256 key. */
const NEW_KEY = ['req', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A P-256 key and a certificate for `subject`, signed by the CA in `out` with `extensions`. */
function issue(
  out: string,
  work: string,
  name: string,
  subject: string,
  extensions: string,
  days: number,
): void {
  const key = join(out, `${name}-key.pem`);
  const csr = join(work, `${name}.csr`);
  const ext = join(work, `${name}.ext`);
  writeFileSync(ext, `${extensions}\n`);
  openssl(...NEW_KEY, '-new', '-subj', subject, '-keyout', key, '-out', csr);
  openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(out, 'ca.pem'),
    '-CAkey',
    join(out, 'ca-key.pem'),
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-days',
    String(days),
    '-sha256',
    '-extfile',
    ext,
    '-out',
    join(out, `${name}.pem`),
  );
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  try {
    openssl('version');
  } catch {
    fail('the openssl command is needed and was not found');
  }
  mkdirSync(args.out, { recursive: true });
  const existing = OUTPUTS.filter((f) => existsSync(join(args.out, f)));
  if (existing.length > 0 && !args.force) {
    fail(`${args.out} already holds ${existing.join(', ')}; pass --force to replace them`);
  }
  const work = mkdtempSync(join(tmpdir(), 'lockstep-certs-'));
  try {
    const caExt = join(work, 'ca.ext');
    writeFileSync(
      caExt,
      '[req]\ndistinguished_name = dn\n[dn]\n[v3_ca]\nbasicConstraints = critical,CA:TRUE\n' +
        'keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n',
    );
    openssl(
      ...NEW_KEY,
      '-x509',
      '-new',
      '-sha256',
      '-subj',
      '/CN=lockstep test CA',
      '-config',
      caExt,
      '-extensions',
      'v3_ca',
      '-days',
      String(args.days),
      '-keyout',
      join(args.out, 'ca-key.pem'),
      '-out',
      join(args.out, 'ca.pem'),
    );
    const leaf = 'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature,keyEncipherment';
    const sans = ['IP:127.0.0.1', 'DNS:localhost', ...args.extraSans].join(',');
    issue(
      args.out,
      work,
      'node',
      '/CN=lockstep-node',
      `${leaf}\nextendedKeyUsage = serverAuth,clientAuth\nsubjectAltName = ${sans}`,
      args.days,
    );
    issue(
      args.out,
      work,
      'client',
      '/CN=lockstep-client',
      `${leaf}\nextendedKeyUsage = clientAuth`,
      args.days,
    );
    for (const f of OUTPUTS) if (f.endsWith('-key.pem')) chmodSync(join(args.out, f), 0o600);
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    fail(`openssl failed: ${stderr || (e as Error).message}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`wrote ${OUTPUTS.join(', ')} to ${args.out}\n`);
}

main();
