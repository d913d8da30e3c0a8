import { z } from 'zod'

const hexQuantity = z.string().regex(/^0x[0-9a-fA-F]+$/, 'must be a 0x-prefixed hex quantity')
const decimalOrHex = z.union([hexQuantity, z.string().regex(/^[0-9]+$/, 'must be a decimal or hex number'), z.number()])
const hexData = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'must be 0x-prefixed even-length hex')
const address = z.string().regex(/^(0x)?[0-9a-fA-F]{40}$/, 'must be a 20-byte hex address')

const qbftSchema = z.object({
  blockperiodseconds: z.number().int().positive().default(1),
  epochlength: z.number().int().positive().default(30000),
  requesttimeoutseconds: z.number().int().positive().default(4),
  emptyblockperiodseconds: z.number().int().nonnegative().default(0),
})

export const genesisSchema = z.object({
  config: z
    .object({
      chainId: z.number().int().positive(),
      qbft: qbftSchema.optional(),
      zeroBaseFee: z.boolean().optional(),
      fixedBaseFee: z.boolean().optional(),
    })
    .loose(),
  nonce: decimalOrHex.default('0x0'),
  timestamp: decimalOrHex.default('0x0'),
  gasLimit: decimalOrHex,
  difficulty: decimalOrHex.default('0x1'),
  mixHash: hexData.nullish(),
  coinbase: address.nullish(),
  baseFeePerGas: decimalOrHex.nullish(),
  extraData: hexData,
  alloc: z.record(
    z.string(),
    z.object({
      balance: decimalOrHex.default('0x0'),
      code: hexData.optional(),
      nonce: decimalOrHex.optional(),
      storage: z.record(z.string(), hexData).optional(),
    }),
  ),
})

export type GenesisJson = z.infer<typeof genesisSchema>
