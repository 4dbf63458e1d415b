/**
 * A bad setting, `.env` line or combination of settings. The message is one line that names the
 * flag or variable and what was expected; the caller prints it and exits with status 1.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
