import { ConfigError } from './errors.js';
import { isLoopback, isProtected } from './protected-mode.js';
import type { Config, SettingName } from './schema.js';

/**
 * Rules that involve more than one setting, checked once after every value parsed on its own.
 * `explicit` holds the settings some layer gave (not left to their default). The first broken
 * rule throws, with the flags to change in its message.
 */
export function checkConsistency(config: Config, explicit: ReadonlySet<SettingName>): void {
  checkPorts(config);
  checkTls(config);
  checkRaftTiming(config);
  if (isProtected(config) && explicit.has('bind') && !isLoopback(config.bind)) {
    throw new ConfigError(
      `protected mode refuses --bind ${config.bind} without --requirepass or --acl-file; ` +
        'set a password, an ACL file, or --protected-mode no',
    );
  }
}

function checkPorts(config: Config): void {
  const listeners: [string, number][] = [
    ['port', config.port],
    ['bus-port', config.busPort],
    ['http-port', config.httpPort],
    ['tls-port', config.tlsPort],
  ];
  const owner = new Map<number, string>();
  for (const [name, port] of listeners) {
    if (port === 0) continue;
    const other = owner.get(port);
    if (other !== undefined) {
      throw new ConfigError(`--${name} ${port} is also --${other}; every listener needs its own port`);
    }
    owner.set(port, name);
  }
}

function checkTls(config: Config): void {
  if ((config.tlsCertFile === null) !== (config.tlsKeyFile === null)) {
    throw new ConfigError('--tls-cert-file and --tls-key-file go together; give both or neither');
  }
  const needsCertificate = config.tlsPort !== 0 ? '--tls-port' : config.tlsBus ? '--tls-bus' : null;
  if (needsCertificate !== null && config.tlsCertFile === null) {
    throw new ConfigError(`${needsCertificate} needs --tls-cert-file and --tls-key-file`);
  }
  if (config.tlsBus && config.tlsCaFile === null) {
    throw new ConfigError('--tls-bus needs --tls-ca-file to verify the certificates of the other nodes');
  }
  if (config.tlsAuthClients && (config.tlsPort === 0 || config.tlsCaFile === null)) {
    throw new ConfigError(
      '--tls-auth-clients needs --tls-port and --tls-ca-file to verify client certificates',
    );
  }
}

/** etcd's rule: heartbeats must be frequent enough that a slow one does not start an election. */
function checkRaftTiming(config: Config): void {
  if (config.electionTimeoutMs < 5 * config.heartbeatMs) {
    throw new ConfigError(
      `--election-timeout-ms ${config.electionTimeoutMs} must be at least 5 times ` +
        `--heartbeat-ms ${config.heartbeatMs}, or followers start elections between heartbeats`,
    );
  }
  if (config.downAfterMs < config.electionTimeoutMs) {
    throw new ConfigError(
      `--down-after-ms ${config.downAfterMs} must be at least --election-timeout-ms ` +
        `${config.electionTimeoutMs}, or a pause too short to trigger an election marks a node down`,
    );
  }
}
