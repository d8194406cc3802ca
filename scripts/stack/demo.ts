// Demo data for `npm start` (issue 5): real datasets shipped in the vega-datasets npm package, published
// through the same client library as the CLI, under development accounts, each with an offer — so a new
// user sees a living marketplace. Publishing is idempotent: an asset already on this chain is skipped.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Contract, JsonRpcProvider, parseEther } from 'ethers'
import { dataMarketAbi, NATIVE_CURRENCY } from '../../contracts/index'
import { ApiClient, ApiRequestError, publish } from '../../sdk/src/index'
import { fileSource, nodeHasher } from '../../sdk/src/node/index'
import { devWallet } from './index'

interface DemoDataset {
  file: string
  format: 'csv' | 'jsonl'
  name: string
  description: string
  tags: string[]
  /** Development account index of the owner (4 and up: 0–3 are admin, relayer, supervisor, treasury). */
  owner: number
  price: string
  policy: 'dp' | 'aggregates-only'
}

const DATASETS: DemoDataset[] = [
  {
    file: 'seattle-weather.csv',
    format: 'csv',
    name: 'Seattle daily weather 2012–2015',
    description: 'Daily precipitation, temperature range, wind and weather type for Seattle (vega-datasets).',
    tags: ['weather', 'climate', 'time-series'],
    owner: 4,
    price: '0.01',
    policy: 'dp',
  },
  {
    file: 'cars.json',
    format: 'jsonl',
    name: 'Cars of the 1970s and early 1980s',
    description:
      'Fuel economy, cylinders, displacement, horsepower, weight and origin of 406 car models (vega-datasets).',
    tags: ['automotive', 'fuel-economy'],
    owner: 5,
    price: '0.02',
    policy: 'aggregates-only',
  },
  {
    file: 'airports.csv',
    format: 'csv',
    name: 'US airports',
    description: 'IATA code, name, city, state, country and coordinates of 3,376 airports (vega-datasets).',
    tags: ['aviation', 'geo'],
    owner: 6,
    price: '0.005',
    policy: 'dp',
  },
]

/** vega-datasets ships cars as a JSON array; the enclave ingests JSON lines. */
function asJsonLines(path: string, out: string): string {
  const rows = JSON.parse(readFileSync(path, 'utf8')) as unknown[]
  writeFileSync(out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
  return out
}

export async function publishDemoData(opts: {
  apiUrl: string
  chainUrl: string
  dataDir: string
  log: (l: string) => void
}): Promise<void> {
  const require = createRequire(import.meta.url)
  // The package exports only its build; the data folder sits beside it.
  const dataDir = join(dirname(require.resolve('vega-datasets')), '..', 'data')
  const scratch = join(opts.dataDir, 'demo')
  mkdirSync(scratch, { recursive: true })
  const api = new ApiClient({ apiUrl: opts.apiUrl })
  const provider = new JsonRpcProvider(opts.chainUrl, undefined, { staticNetwork: true, batchMaxCount: 1 })
  const { contracts } = await api.request<{ contracts: Record<string, string> }>('/chain')
  try {
    for (const d of DATASETS) {
      const wallet = devWallet(d.owner, provider)
      const source = join(dataDir, d.file)
      const file = d.file.endsWith('.json')
        ? asJsonLines(source, join(scratch, d.file.replace(/\.json$/, '.jsonl')))
        : source
      try {
        const result = await publish({
          api,
          signer: wallet,
          source: fileSource(file),
          format: d.format,
          declaration: {
            name: d.name,
            description: d.description,
            tags: d.tags,
            policy: { mode: d.policy },
            lawfulBasis: {
              basis: 'public-data',
              statement: 'Published in the vega-datasets package under its licence.',
              personalData: false,
            },
          },
          enclave: { rpcUrl: opts.chainUrl },
          idempotencyKey: `demo-${d.file}`,
          createHasher: nodeHasher,
        })
        const market = new Contract(contracts.DataMarket, dataMarketAbi, wallet)
        await (
          await market.setOffer(result.tokenId, {
            price: parseEther(d.price),
            currency: NATIVE_CURRENCY,
            duration: 30 * 86400,
            maxJobs: 100,
            epsilonBudgetMilli: 10_000,
            purposes: 0xffffffff,
          })
        ).wait()
        opts.log(`demo: published "${d.name}" as asset #${result.tokenId} with an offer at ${d.price} ETH`)
      } catch (err) {
        if (err instanceof ApiRequestError && err.code === 'already_published') continue
        throw err
      }
    }
  } finally {
    provider.destroy()
  }
}
