/** The port finder lives with the tools that start real clusters; the tests use the same one. */
export { freePortRange, freePorts } from '../../tools/free-ports.js';
