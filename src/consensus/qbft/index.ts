export { EXTRA_VANITY_LENGTH, ISTANBUL_MIX_HASH, QBFT_DIFFICULTY } from './constants.js'
export { QbftEngine, type QbftEngineDeps } from './engine.js'
export { QbftError, type QbftErrorCode } from './errors.js'
export {
  commitSealExtraData,
  decodeExtraData,
  encodeExtraData,
  genesisExtraData,
  hashingExtraData,
  type QbftExtraData,
  type QbftVote,
} from './extraData.js'
export { blockHashForHeader, commitSealHash, type Keccak256 } from './hashing.js'
export { compareAddresses, containsAddress, indexOfAddress, selectProposer, sortValidators } from './proposer.js'
export { faultTolerance, quorum } from './quorum.js'
export { QbftRules } from './rules.js'
export {
  createCommitSeal,
  recoverCommitters,
  recoverSealers,
  type SealCrypto,
  validateCommittedSeals,
  validateSeals,
} from './seals.js'
