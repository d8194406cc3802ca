import { ContractFactory, ZeroAddress, ZeroHash, id, type Contract } from 'ethers'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  ROLES,
  dataAssetNftAbi,
  dataAssetNftBytecode,
  deployStillflow,
  enclaveRegistryAbi,
  enclaveRegistryBytecode,
} from '../../contracts/index'
import {
  FEE_BPS,
  MEASUREMENT,
  as,
  deployWorld,
  expectEvent,
  expectRevert,
  mined,
  provider,
  vendorKey,
  type World,
} from './fixture'

let w: World
beforeEach(async () => {
  w = await deployWorld()
})

const contracts = (): [string, Contract][] => [
  ['DataAssetNFT', w.nft],
  ['DataMarket', w.market],
  ['EnclaveRegistry', w.registry],
  ['ComputeLedger', w.ledger],
]

describe('deployStillflow', () => {
  it('returns the address book and wires the roles; the deployer keeps none', async () => {
    expect(w.book.chainId).toBe(31337)
    expect(w.book.deployedAtBlock).toBeGreaterThan(0)
    const first = await provider.getBlock(w.book.deployedAtBlock)
    expect(first!.transactions.length).toBe(1)
    for (const [, c] of contracts()) {
      expect(await c.hasRole(ROLES.admin, w.admin.address)).toBe(true)
      expect(await c.hasRole(ROLES.relayer, w.relayer.address)).toBe(true)
      expect(await c.hasRole(ROLES.supervisor, w.supervisor.address)).toBe(true)
      for (const role of [ROLES.admin, ROLES.relayer, ROLES.supervisor]) {
        expect(await c.hasRole(role, w.deployer.address)).toBe(false)
      }
      expect(await c.paused()).toBe(false)
      expect(await c.RELAYER_ROLE()).toBe(ROLES.relayer)
      expect(await c.SUPERVISOR_ROLE()).toBe(ROLES.supervisor)
    }
    expect(await w.market.LEDGER_ROLE()).toBe(ROLES.ledger)
    expect(await w.market.hasRole(ROLES.ledger, w.book.contracts.ComputeLedger)).toBe(true)
    expect(await w.market.assets()).toBe(w.book.contracts.DataAssetNFT)
    expect(await w.market.treasury()).toBe(w.treasury.address)
    expect(await w.market.platformFeeBps()).toBe(BigInt(FEE_BPS))
    expect(await w.ledger.market()).toBe(w.book.contracts.DataMarket)
    expect(await w.registry.isMeasurementApproved(MEASUREMENT)).toBe(true)
  })

  it('refuses relayer = supervisor, a fee above 10 % and malformed measurements before sending anything', async () => {
    const base = {
      admin: w.admin.address,
      relayer: w.relayer.address,
      supervisor: w.supervisor.address,
      treasury: w.treasury.address,
      vendorRoot: vendorKey.address,
      platformFeeBps: 100,
    }
    await expect(deployStillflow(w.deployer, { ...base, supervisor: w.relayer.address })).rejects.toThrow(/R21–R22/)
    await expect(deployStillflow(w.deployer, { ...base, platformFeeBps: 1_001 })).rejects.toThrow(/platformFeeBps/)
    await expect(deployStillflow(w.deployer, { ...base, approvedMeasurements: ['0x12'] })).rejects.toThrow(
      /measurement/,
    )
  })
})

describe('StillflowRoles: three powers (R21–R22)', () => {
  it('refuses to give the relayer and the supervisor role to one account, on every contract', async () => {
    for (const [, c] of contracts()) {
      await expectRevert(as(c, w.admin).grantRole(ROLES.relayer, w.supervisor.address), 'StillflowRolesConflict', [
        w.supervisor.address,
        ROLES.relayer,
        ROLES.supervisor,
      ])
      await expectRevert(as(c, w.admin).grantRole(ROLES.supervisor, w.relayer.address), 'StillflowRolesConflict', [
        w.relayer.address,
        ROLES.supervisor,
        ROLES.relayer,
      ])
      const r = await mined(as(c, w.admin).grantRole(ROLES.relayer, w.other.address))
      expectEvent(r, c, 'RoleGranted', [ROLES.relayer, w.other.address, w.admin.address])
    }
  })

  it('lets the admin revoke roles and no one else grant them; every role is administered by the admin', async () => {
    for (const [, c] of contracts()) {
      for (const role of [ROLES.relayer, ROLES.supervisor]) expect(await c.getRoleAdmin(role)).toBe(ROLES.admin)
      const r = await mined(as(c, w.admin).revokeRole(ROLES.relayer, w.relayer.address))
      expectEvent(r, c, 'RoleRevoked', [ROLES.relayer, w.relayer.address, w.admin.address])
      expect(await c.hasRole(ROLES.relayer, w.relayer.address)).toBe(false)
      await expectRevert(
        as(c, w.supervisor).grantRole(ROLES.relayer, w.other.address),
        'AccessControlUnauthorizedAccount',
        [w.supervisor.address, ROLES.admin],
      )
      await expectRevert(
        as(c, w.other).renounceRole(ROLES.supervisor, w.supervisor.address),
        'AccessControlBadConfirmation',
        [],
      )
    }
  })

  it('lets an account switch powers only after giving the other one up', async () => {
    await mined(as(w.nft, w.supervisor).renounceRole(ROLES.supervisor, w.supervisor.address))
    await mined(as(w.nft, w.admin).grantRole(ROLES.relayer, w.supervisor.address))
    expect(await w.nft.hasRole(ROLES.relayer, w.supervisor.address)).toBe(true)
  })

  it('refuses a constructor with a zero role account or relayer = supervisor', async () => {
    const nft = new ContractFactory(dataAssetNftAbi as never, dataAssetNftBytecode, w.deployer)
    await expectRevert(
      nft.deploy(ZeroAddress, w.relayer.address, w.supervisor.address, ''),
      'StillflowRolesZeroAccount',
      [ZeroHash],
    )
    await expectRevert(
      nft.deploy(w.admin.address, ZeroAddress, w.supervisor.address, ''),
      'StillflowRolesZeroAccount',
      [ROLES.relayer],
    )
    await expectRevert(nft.deploy(w.admin.address, w.relayer.address, ZeroAddress, ''), 'StillflowRolesZeroAccount', [
      ROLES.supervisor,
    ])
    await expectRevert(
      nft.deploy(w.admin.address, w.relayer.address, w.relayer.address, ''),
      'StillflowRolesConflict',
      [w.relayer.address, ROLES.supervisor, ROLES.relayer],
    )
    const reg = new ContractFactory(enclaveRegistryAbi as never, enclaveRegistryBytecode, w.deployer)
    const args = [w.admin.address, w.relayer.address, w.supervisor.address]
    await expectRevert(reg.deploy(...args, ZeroAddress, 3_600, []), 'EnclaveRegistryZeroVendorRoot', [])
    await expectRevert(reg.deploy(...args, vendorKey.address, 0, []), 'EnclaveRegistryZeroMaxQuoteAge', [])
    await expectRevert(
      reg.deploy(...args, vendorKey.address, 60, [MEASUREMENT, MEASUREMENT]),
      'EnclaveRegistryMeasurementAlreadyApproved',
      [MEASUREMENT],
    )
  })
})

describe('StillflowRoles: pause (R25)', () => {
  it('lets a supervisor or the admin pause and only the admin unpause, each logged, on every contract', async () => {
    for (const [, c] of contracts()) {
      const p = await mined(as(c, w.supervisor).pause())
      expectEvent(p, c, 'Paused', [w.supervisor.address])
      expect(await c.paused()).toBe(true)
      await expectRevert(as(c, w.admin).pause(), 'StillflowRolesEnforcedPause', [])
      await expectRevert(as(c, w.supervisor).unpause(), 'AccessControlUnauthorizedAccount', [
        w.supervisor.address,
        ZeroHash,
      ])
      const u = await mined(as(c, w.admin).unpause())
      expectEvent(u, c, 'Unpaused', [w.admin.address])
      await expectRevert(as(c, w.admin).unpause(), 'StillflowRolesExpectedPause', [])
      await mined(as(c, w.admin).pause())
      expect(await c.paused()).toBe(true)
    }
  })

  it('refuses a pause by anyone else', async () => {
    for (const [, c] of contracts()) {
      for (const s of [w.relayer, w.stranger]) {
        await expectRevert(as(c, s).pause(), 'StillflowRolesUnauthorizedPauser', [s.address])
      }
    }
  })

  it('answers ERC-165 for AccessControl on every contract', async () => {
    for (const [, c] of contracts()) {
      expect(await c.supportsInterface('0x7965db0b')).toBe(true)
      expect(await c.supportsInterface('0x01ffc9a7')).toBe(true)
      expect(await c.supportsInterface('0xffffffff')).toBe(false)
    }
  })
})

describe('contracts/index.ts constants', () => {
  it('ROLES match keccak256 of the role names', () => {
    expect(ROLES).toEqual({
      admin: ZeroHash,
      relayer: id('RELAYER_ROLE'),
      supervisor: id('SUPERVISOR_ROLE'),
      ledger: id('LEDGER_ROLE'),
    })
  })
})
