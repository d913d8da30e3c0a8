/**
 * V8 flags a Polis node runs with. Executing blocks allocates many short-lived objects (RLP, trie nodes, bigints);
 * a 64 MiB young generation halves the scavenges and made building and importing blocks 10-20 % faster (1,000
 * transfers per block). The flags only take effect on the command line, so every launcher passes them: the `polis`
 * bin's shebang, `npm start`, the Dockerfile, and the scripts that spawn nodes.
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=64']
