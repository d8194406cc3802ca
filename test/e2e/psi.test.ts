// Private set intersection end to end against the processes `npm start` runs (issue 9; R55, R61): two
// data owners run `stillflow psi` through the CLI, each learns the shared ids from its own input, the
// worker's relayer commits the transcript hash and intersection size on chain, and each party's CLI
// reads the commitment back through its own RPC and checks it against the transcript it computed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, Interface, JsonRpcProvider } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeLedgerAbi } from '../../contracts/index'
import { psiTranscriptHash, signPsiRequest, type PsiTranscript } from '../../sdk/src/psi/index'
import { cliRunner } from '../support/cli'
import { devWallet, freePorts, startStack, type Stack } from '../../scripts/stack'

const root = process.cwd()
const A = 10
const B = 11
const STRANGER = 12

// A: one id per line, with a duplicate; B: a CSV column. Shared: ann, cy, eve (ann twice in A).
const IDS_A = ['ann@x.org', 'bea@x.org', 'cy@x.org', 'ann@x.org', 'dan@x.org', 'eve@x.org']
const CSV_B = 'name,email\nCy,cy@x.org\nFay,fay@x.org\nAnn,ann@x.org\nGus,gus@x.org\nEve,eve@x.org\n'
const SHARED = ['ann@x.org', 'cy@x.org', 'eve@x.org']

interface RunOutput {
  sessionId: string
  role: 'A' | 'B'
  intersectionSize: number
  matched: string[]
  transcriptHash: string
  transcript: PsiTranscript
  commitment: { txHash: string; blockNumber: number; ledger: string }
}

describe('stillflow psi', () => {
  let stack: Stack
  let dataDir: string
  let provider: JsonRpcProvider
  const home = (who: string) => join(dataDir, `cli-${who}`)
  const cli = (who: string) => (args: string[]) => cliRunner(root, () => stack, home(who))(args)
  const json = async (who: string, args: string[]) => {
    const res = await cli(who)([...args, '--json'])
    expect(res.code, res.stderr).toBe(0)
    return JSON.parse(res.stdout)
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'stillflow-psi-'))
    stack = await startStack({ root, dataDir, ports: await freePorts() })
    provider = new JsonRpcProvider(stack.urls.chain, 31337, { staticNetwork: true, batchMaxCount: 1 })
    writeFileSync(join(dataDir, 'a.txt'), IDS_A.join('\n') + '\n')
    writeFileSync(join(dataDir, 'b.csv'), CSV_B)
  })
  afterAll(async () => {
    provider?.destroy()
    await stack?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('both parties learn the intersection, and the on-chain commitment is the transcript each computed', async () => {
    const a = devWallet(A)
    const b = devWallet(B)
    const created = await json('a', ['psi', 'create', '--peer', b.address, '--dev-account', String(A), '--max', '100'])
    const sessionId: string = created.sessionId
    expect(created).toMatchObject({
      role: 'A',
      session: { partyA: a.address, partyB: b.address, state: 'awaiting-peer' },
    })
    // A stranger cannot take B's place.
    const intruder = await cli('stranger')(['psi', 'join', sessionId, '--role', 'B', '--dev-account', String(STRANGER)])
    expect(intruder.code).not.toBe(0)
    expect(intruder.stderr).toMatch(/not party B/)
    const joined = await json('b', ['psi', 'join', sessionId, '--dev-account', String(B)])
    expect(joined).toMatchObject({ role: 'B', session: { state: 'exchanging' } })

    const outFile = join(dataDir, 'shared-a.txt')
    const [ra, rb] = (await Promise.all([
      json('a', [
        'psi',
        'run',
        sessionId,
        '--input',
        join(dataDir, 'a.txt'),
        '--out',
        outFile,
        '--dev-account',
        String(A),
      ]),
      json('b', [
        'psi',
        'run',
        sessionId,
        '--input',
        join(dataDir, 'b.csv'),
        '--column',
        'email',
        '--dev-account',
        String(B),
      ]),
    ])) as [RunOutput, RunOutput]

    // Each learns the shared ids, from its own input, and nothing tells it more than that.
    expect([...ra.matched].sort()).toEqual(SHARED)
    expect([...rb.matched].sort()).toEqual(SHARED)
    expect(readFileSync(outFile, 'utf8').trim().split('\n').sort()).toEqual(SHARED)
    expect(ra.intersectionSize).toBe(3)
    expect(rb.intersectionSize).toBe(3)

    // Both transcripts hash to the same value, computed by each party from its own messages…
    const local = psiTranscriptHash(ra.transcript)
    expect(psiTranscriptHash(rb.transcript)).toBe(local)
    expect(ra.transcript).toMatchObject({ sessionId, partyA: a.address, partyB: b.address, sizeA: 5, sizeB: 5 })
    // …and the chain holds exactly that, committed by the relayer in the transaction the CLI printed.
    const ledger = new Contract(stack.addressBook.contracts.ComputeLedger, computeLedgerAbi, provider)
    const onChain = await ledger.psiCommitment(sessionId)
    expect(onChain.transcriptHash).toBe(local)
    expect(Number(onChain.intersectionSize)).toBe(3)
    expect(ra.commitment.txHash).toBe(rb.commitment.txHash)
    const receipt = await provider.getTransactionReceipt(ra.commitment.txHash)
    const events = receipt!.logs.map((l) => new Interface(computeLedgerAbi).parseLog(l)).filter(Boolean)
    expect(events.map((e) => [e!.name, e!.args.sessionId, e!.args.transcriptHash, e!.args.intersectionSize])).toEqual([
      ['PsiCommitted', sessionId, local, 3n],
    ])
    // The session view shows the commit and its transaction.
    const view = await (await fetch(`${stack.urls.api}/psi/sessions/${sessionId}`)).json()
    expect(view).toMatchObject({
      state: 'done',
      commit: { status: 'committed', txHash: ra.commitment.txHash, blockNumber: receipt!.blockNumber },
    })

    // A third address cannot read either party's result.
    const stranger = devWallet(STRANGER)
    for (const [role, code] of [
      ['A', 0],
      ['B', 1],
    ] as const) {
      const nonce = String(100 + code)
      const deadline = Math.floor(Date.now() / 1000) + 60
      const signature = await signPsiRequest(stranger, 31337, {
        sessionId,
        role: code,
        action: 'get-result',
        bodyHash: '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        nonce,
        deadline,
      })
      const res = await fetch(`${stack.urls.api}/psi/sessions/${sessionId}/result`, {
        headers: {
          'x-psi-role': role,
          'x-psi-nonce': nonce,
          'x-psi-deadline': String(deadline),
          'x-psi-signature': signature,
        },
      })
      expect({ role, status: res.status, body: await res.json() }).toMatchObject({
        role,
        status: 403,
        body: { error: { code: 'psi_not_a_party' } },
      })
    }
  })
})
