export { EXTRA_VANITY_LENGTH, ISTANBUL_MIX_HASH, QBFT_DIFFICULTY } from './constants.js'
export {
  type Clock,
  type ConsensusTransport,
  defaultQbftEngineOptions,
  QbftEngine,
  type QbftEngineDeps,
  type QbftEngineOptions,
  type QbftMetrics,
  systemClock,
} from './engine.js'
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
export {
  checkPrepareCertificate,
  checkProposal,
  checkRoundChange,
  isHighestPrepared,
  isValidPrepare,
  isValidRoundChangePayload,
  type JustificationContext,
  type Verdict,
} from './justification.js'
export { type StepResult, step } from './machine.js'
export { decodeSignedLog, encodeSignedLog } from './machine-log.js'
export {
  createMachine,
  isLocalProposer,
  isLocalValidator,
  type MachineState,
  type MachineStatus,
  machineStatus,
  type PreparedCertificate,
  proposerOf,
  roundTimeoutMs,
  signedLog,
} from './machine-state.js'
export {
  type BlockInterface,
  DEFAULT_ROUND_WINDOW,
  DROP_REASONS,
  type DropReason,
  type LoggedPreparedCertificate,
  type MachineConfig,
  type MachineEvent,
  type MachineOutput,
  type MachineSigner,
  type SignedLog,
} from './machine-types.js'
export {
  type CommitMessage,
  type CommitPayload,
  classifyMessageHeight,
  decodeMessage,
  decodeMessageBody,
  encodeMessage,
  encodeMessageBody,
  encodePayload,
  encodeSignedMessage,
  encodeSignedPayload,
  MESSAGE_CODE,
  type MessageCrypto,
  type MessageType,
  type MessageVerifier,
  messageAuthor,
  messageHeight,
  messageRound,
  type Payload,
  type PreparedRoundMetadata,
  type PrepareMessage,
  type PreparePayload,
  type ProposalMessage,
  type ProposalPayload,
  payloadSigningHash,
  type QbftMessage,
  type RoundChangeMessage,
  type RoundChangePayload,
  type SignedPayload,
  signMessage,
  signPayload,
  type UnsignedMessage,
} from './messages.js'
export { compareAddresses, containsAddress, indexOfAddress, selectProposer, sortValidators } from './proposer.js'
export { faultTolerance, quorum } from './quorum.js'
export { QbftRules } from './rules.js'
export {
  decodeSealedBlock,
  encodeSealedBlock,
  rawWithExtraData,
  sealedBlockNumber,
  sealedExtraData,
} from './sealedBlock.js'
export {
  createCommitSeal,
  recoverCommitters,
  recoverSealers,
  type SealCrypto,
  validateCommittedSeals,
  validateSeals,
} from './seals.js'
export {
  defaultValidatorProviderOptions,
  type EthereumHeaderLike,
  type HeaderReader,
  headerView,
  type QbftHeaderView,
  ValidatorProvider,
  type ValidatorProviderDeps,
  type ValidatorProviderOptions,
  ValidatorsError,
  type ValidatorsErrorCode,
  validatorsInHeader,
  votingBlock,
} from './validators.js'
export {
  isEpochBlock,
  lastEpochBlock,
  type PendingVotesFor,
  VoteProposer,
  VoteTally,
  type VotingBlock,
  voteThreshold,
} from './votes.js'
