import { TypedDataEncoder, ZeroAddress, ZeroHash, id } from 'ethers'
import { beforeEach, describe, expect, it } from 'vitest'
import { publishTypes } from '../../contracts/index'
import {
  as,
  deployTest,
  deployWorld,
  eventsOf,
  expectEvent,
  expectRevert,
  latestTimestamp,
  mined,
  mintAsset,
  setNextTimestamp,
  signPublish,
  word,
  type World,
} from './fixture'

let w: World
const SUPERVISOR_ROLE = id('SUPERVISOR_ROLE')

beforeEach(async () => {
  w = await deployWorld()
})

async function publishMsg(owner: string, label: string, deadlineIn = 3600) {
  return {
    owner,
    contentHash: word(`content ${label}`),
    metadataDigest: word(`metadata ${label}`),
    deadline: (await latestTimestamp()) + deadlineIn,
  }
}

describe('DataAssetNFT.mintWithSignature', () => {
  it('mints to the owner when the relayer submits the owner’s signature', async () => {
    const msg = await publishMsg(w.owner.address, 'a')
    const sig = await signPublish(w, w.owner, msg)
    const r = await mined(
      as(w.nft, w.relayer).mintWithSignature(msg.owner, msg.contentHash, msg.metadataDigest, msg.deadline, sig),
    )
    expectEvent(r, w.nft, 'Transfer', [ZeroAddress, w.owner.address, 1n])
    expectEvent(r, w.nft, 'AssetMinted', [1n, w.owner.address, msg.contentHash, msg.metadataDigest, w.relayer.address])
    expect(await w.nft.ownerOf(1)).toBe(w.owner.address)
    expect(await w.nft.balanceOf(w.owner.address)).toBe(1n)
    expect(await w.nft.tokenIdOfContent(msg.contentHash)).toBe(1n)
    expect((await w.nft.assetInfo(1)).toArray()).toEqual([w.owner.address, msg.contentHash, false, false, 0n])
    expect((await w.nft.assetStatus(1)).toArray()).toEqual([msg.contentHash, false, false])
    const block = await w.nft.runner!.provider!.getBlock(r.blockNumber)
    expect(await w.nft.mintedAt(1)).toBe(BigInt(block!.timestamp))
    expect(await w.nft.totalMinted()).toBe(1n)
  })

  it('numbers tokens from 1 upwards and lets anyone submit', async () => {
    expect(await mintAsset(w, w.owner, 'a')).toBe(1n)
    const msg = await publishMsg(w.other.address, 'b')
    const sig = await signPublish(w, w.other, msg)
    await mined(
      as(w.nft, w.stranger).mintWithSignature(msg.owner, msg.contentHash, msg.metadataDigest, msg.deadline, sig),
    )
    expect(await w.nft.tokenIdOfContent(msg.contentHash)).toBe(2n)
    expect(await w.nft.ownerOf(2)).toBe(w.other.address)
    expect(await w.nft.totalMinted()).toBe(2n)
  })

  it('accepts an ERC-1271 smart-wallet owner', async () => {
    const wallet = await deployTest('TestWallet1271', w.deployer, [w.owner.address])
    const walletAddress = await wallet.getAddress()
    const msg = await publishMsg(walletAddress, 'wallet')
    const sig = await signPublish(w, w.owner, msg) // the wallet's key signs; the wallet vouches
    await mined(
      as(w.nft, w.relayer).mintWithSignature(msg.owner, msg.contentHash, msg.metadataDigest, msg.deadline, sig),
    )
    expect(await w.nft.ownerOf(1)).toBe(walletAddress)
  })

  it('refuses a signature whose deadline has passed', async () => {
    const msg = await publishMsg(w.owner.address, 'a', 10)
    const sig = await signPublish(w, w.owner, msg)
    const t = msg.deadline + 1
    await setNextTimestamp(t)
    await expectRevert(
      as(w.nft, w.relayer).mintWithSignature(msg.owner, msg.contentHash, msg.metadataDigest, msg.deadline, sig, {
        gasLimit: 500_000,
      }),
      'DataAssetNFTSignatureExpired',
      [msg.deadline, t],
    )
  })

  it('refuses zero hashes', async () => {
    for (const [content, meta] of [
      [ZeroHash, word('m')],
      [word('c'), ZeroHash],
    ]) {
      const msg = { ...(await publishMsg(w.owner.address, 'z')), contentHash: content, metadataDigest: meta }
      const sig = await signPublish(w, w.owner, msg)
      await expectRevert(
        as(w.nft, w.relayer).mintWithSignature(msg.owner, content, meta, msg.deadline, sig),
        'DataAssetNFTZeroHash',
        [],
      )
    }
  })

  it('mints a content hash only once, whoever signs (R2)', async () => {
    await mintAsset(w, w.owner, 'a')
    const msg = { ...(await publishMsg(w.other.address, 'a')), metadataDigest: word('other metadata') }
    const sig = await signPublish(w, w.other, msg)
    await expectRevert(
      as(w.nft, w.relayer).mintWithSignature(msg.owner, msg.contentHash, msg.metadataDigest, msg.deadline, sig),
      'DataAssetNFTContentAlreadyMinted',
      [msg.contentHash, 1n],
    )
  })

  it('refuses a signature by someone else, a tampered message, a malformed or foreign-domain signature', async () => {
    const msg = await publishMsg(w.owner.address, 'a')
    const byOther = await signPublish(w, w.other, msg)
    const good = await signPublish(w, w.owner, msg)
    const foreign = await w.owner.signTypedData(
      { name: 'Stillflow DataAssetNFT', version: '1', chainId: 1n, verifyingContract: w.book.contracts.DataAssetNFT },
      publishTypes,
      msg,
    )
    const send = (meta: string, deadline: number, sig: string) =>
      as(w.nft, w.relayer).mintWithSignature(msg.owner, msg.contentHash, meta, deadline, sig)
    await expectRevert(send(msg.metadataDigest, msg.deadline, byOther), 'DataAssetNFTInvalidSignature', [
      w.owner.address,
    ])
    await expectRevert(send(word('tampered'), msg.deadline, good), 'DataAssetNFTInvalidSignature', [w.owner.address])
    await expectRevert(send(msg.metadataDigest, msg.deadline + 1, good), 'DataAssetNFTInvalidSignature', [
      w.owner.address,
    ])
    await expectRevert(send(msg.metadataDigest, msg.deadline, '0x1234'), 'DataAssetNFTInvalidSignature', [
      w.owner.address,
    ])
    await expectRevert(send(msg.metadataDigest, msg.deadline, foreign), 'DataAssetNFTInvalidSignature', [
      w.owner.address,
    ])
  })

  it('refuses to mint while paused', async () => {
    const msg = await publishMsg(w.owner.address, 'a')
    const sig = await signPublish(w, w.owner, msg)
    await mined(as(w.nft, w.supervisor).pause())
    await expectRevert(
      as(w.nft, w.relayer).mintWithSignature(msg.owner, msg.contentHash, msg.metadataDigest, msg.deadline, sig),
      'StillflowRolesEnforcedPause',
      [],
    )
  })

  it('PUBLISH_TYPEHASH is the hash of the published TypeScript type', async () => {
    const encoded = TypedDataEncoder.from(publishTypes).encodeType('Publish')
    expect(encoded).toBe('Publish(address owner,bytes32 contentHash,bytes32 metadataDigest,uint256 deadline)')
    expect(await w.nft.PUBLISH_TYPEHASH()).toBe(id(encoded))
    const d = await w.nft.eip712Domain()
    expect([d[1], d[2], d[3], d[4]]).toEqual(['Stillflow DataAssetNFT', '1', w.chainId, w.book.contracts.DataAssetNFT])
  })
})

describe('DataAssetNFT.amend', () => {
  it('appends corrections by the owner or the delegate (R27)', async () => {
    await mintAsset(w, w.owner, 'a')
    const r1 = await mined(as(w.nft, w.owner).amend(1, word('v2'), 'typo in schema'))
    expectEvent(r1, w.nft, 'AssetAmended', [1n, w.owner.address, 1n, word('v2'), 'typo in schema'])
    expectEvent(r1, w.nft, 'MetadataUpdate', [1n])
    await mined(as(w.nft, w.owner).setDelegate(1, w.other.address))
    const r2 = await mined(as(w.nft, w.other).amend(1, word('v3'), 'row count'))
    expectEvent(r2, w.nft, 'AssetAmended', [1n, w.other.address, 2n, word('v3'), 'row count'])
    expect(await w.nft.amendmentCount(1)).toBe(2n)
  })

  it('refuses strangers, zero digests and unknown tokens', async () => {
    await mintAsset(w, w.owner, 'a')
    await expectRevert(as(w.nft, w.stranger).amend(1, word('v2'), 'x'), 'DataAssetNFTNotManager', [
      1n,
      w.stranger.address,
    ])
    await expectRevert(as(w.nft, w.owner).amend(1, ZeroHash, 'x'), 'DataAssetNFTZeroHash', [])
    await expectRevert(as(w.nft, w.owner).amend(9, word('v2'), 'x'), 'DataAssetNFTNonexistentToken', [9n])
  })
})

describe('DataAssetNFT.revoke', () => {
  it('lets the owner revoke for good, even while paused, without moving the token', async () => {
    await mintAsset(w, w.owner, 'a')
    await mined(as(w.nft, w.admin).pause())
    const r = await mined(as(w.nft, w.owner).revoke(1))
    expectEvent(r, w.nft, 'AssetRevoked', [1n, w.owner.address])
    expectEvent(r, w.nft, 'MetadataUpdate', [1n])
    expect((await w.nft.assetInfo(1)).toArray()).toEqual([w.owner.address, word('content a'), true, false, 0n])
    await expectRevert(as(w.nft, w.owner).revoke(1), 'DataAssetNFTAssetRevoked', [1n])
  })

  it('refuses anyone but the owner, including the delegate', async () => {
    await mintAsset(w, w.owner, 'a')
    await mined(as(w.nft, w.owner).setDelegate(1, w.other.address))
    await expectRevert(as(w.nft, w.other).revoke(1), 'DataAssetNFTNotOwner', [1n, w.other.address])
    await expectRevert(as(w.nft, w.supervisor).revoke(1), 'DataAssetNFTNotOwner', [1n, w.supervisor.address])
    await expectRevert(as(w.nft, w.owner).revoke(7), 'DataAssetNFTNonexistentToken', [7n])
  })
})

describe('DataAssetNFT.freeze / unfreeze', () => {
  it('lets a supervisor freeze and unfreeze with a reason; the token never moves', async () => {
    await mintAsset(w, w.owner, 'a')
    const r = await mined(as(w.nft, w.supervisor).freeze(1, word('complaint 17')))
    expectEvent(r, w.nft, 'AssetFrozen', [1n, w.supervisor.address, word('complaint 17')])
    expectEvent(r, w.nft, 'MetadataUpdate', [1n])
    expect(eventsOf(r, w.nft).map((e) => e.name)).not.toContain('Transfer')
    expect((await w.nft.assetInfo(1)).toArray()).toEqual([w.owner.address, word('content a'), false, true, 0n])
    await expectRevert(as(w.nft, w.supervisor).freeze(1, word('again')), 'DataAssetNFTAssetFrozen', [1n])
    const u = await mined(as(w.nft, w.supervisor).unfreeze(1))
    expectEvent(u, w.nft, 'AssetUnfrozen', [1n, w.supervisor.address])
    expect((await w.nft.assetStatus(1)).toArray()).toEqual([word('content a'), false, false])
    await expectRevert(as(w.nft, w.supervisor).unfreeze(1), 'DataAssetNFTAssetNotFrozen', [1n])
  })

  it('refuses non-supervisors and unknown tokens', async () => {
    await mintAsset(w, w.owner, 'a')
    for (const s of [w.admin, w.relayer, w.owner]) {
      await expectRevert(as(w.nft, s).freeze(1, word('r')), 'AccessControlUnauthorizedAccount', [
        s.address,
        SUPERVISOR_ROLE,
      ])
      await expectRevert(as(w.nft, s).unfreeze(1), 'AccessControlUnauthorizedAccount', [s.address, SUPERVISOR_ROLE])
    }
    await expectRevert(as(w.nft, w.supervisor).freeze(5, word('r')), 'DataAssetNFTNonexistentToken', [5n])
    await expectRevert(as(w.nft, w.supervisor).unfreeze(5), 'DataAssetNFTNonexistentToken', [5n])
  })
})

describe('DataAssetNFT.setDelegate', () => {
  it('sets and clears a delegate; a transfer wipes it', async () => {
    await mintAsset(w, w.owner, 'a')
    const r = await mined(as(w.nft, w.owner).setDelegate(1, w.other.address))
    expectEvent(r, w.nft, 'AssetDelegateSet', [1n, w.owner.address, w.other.address])
    expect(await w.nft.delegateOf(1)).toBe(w.other.address)
    expect(await w.nft.isAssetManager(1, w.other.address)).toBe(true)
    expect(await w.nft.isAssetManager(1, w.owner.address)).toBe(true)
    expect(await w.nft.isAssetManager(1, w.stranger.address)).toBe(false)
    expect(await w.nft.isAssetManager(1, ZeroAddress)).toBe(false)

    const t = await mined(as(w.nft, w.owner).transferFrom(w.owner.address, w.buyer.address, 1))
    expectEvent(t, w.nft, 'AssetDelegateSet', [1n, w.buyer.address, ZeroAddress])
    expect(await w.nft.delegateOf(1)).toBe(ZeroAddress)
    expect(await w.nft.isAssetManager(1, w.other.address)).toBe(false)

    await mined(as(w.nft, w.buyer).setDelegate(1, w.other.address))
    const c = await mined(as(w.nft, w.buyer).setDelegate(1, ZeroAddress))
    expectEvent(c, w.nft, 'AssetDelegateSet', [1n, w.buyer.address, ZeroAddress])
    expect(await w.nft.delegateOf(1)).toBe(ZeroAddress)
  })

  it('refuses anyone but the owner', async () => {
    await mintAsset(w, w.owner, 'a')
    await mined(as(w.nft, w.owner).setDelegate(1, w.other.address))
    await expectRevert(as(w.nft, w.other).setDelegate(1, w.stranger.address), 'DataAssetNFTNotOwner', [
      1n,
      w.other.address,
    ])
    await expectRevert(as(w.nft, w.owner).setDelegate(3, w.other.address), 'DataAssetNFTNonexistentToken', [3n])
    await expectRevert(w.nft.isAssetManager(3, w.owner.address), 'DataAssetNFTNonexistentToken', [3n])
  })
})

describe('DataAssetNFT.setRoyalty (ERC-2981)', () => {
  it('lets the owner set a per-token royalty', async () => {
    await mintAsset(w, w.owner, 'a')
    expect((await w.nft.royaltyInfo(1, 10_000)).toArray()).toEqual([ZeroAddress, 0n])
    const r = await mined(as(w.nft, w.owner).setRoyalty(1, w.other.address, 500))
    expectEvent(r, w.nft, 'AssetRoyaltySet', [1n, w.other.address, 500n])
    expect((await w.nft.royaltyInfo(1, 10_000)).toArray()).toEqual([w.other.address, 500n])
    expect((await w.nft.royaltyInfo(1, 3n * 10n ** 18n)).toArray()).toEqual([w.other.address, 15n * 10n ** 16n])
  })

  it('refuses a royalty above 100 %, a zero receiver, and non-owners', async () => {
    await mintAsset(w, w.owner, 'a')
    await expectRevert(as(w.nft, w.owner).setRoyalty(1, w.other.address, 10_001), 'ERC2981InvalidTokenRoyalty', [
      1n,
      10_001n,
      10_000n,
    ])
    await expectRevert(as(w.nft, w.owner).setRoyalty(1, ZeroAddress, 100), 'ERC2981InvalidTokenRoyaltyReceiver', [
      1n,
      ZeroAddress,
    ])
    await expectRevert(as(w.nft, w.stranger).setRoyalty(1, w.stranger.address, 100), 'DataAssetNFTNotOwner', [
      1n,
      w.stranger.address,
    ])
  })
})

describe('DataAssetNFT.setBaseTokenURI and tokenURI', () => {
  it('lets the admin set the token-URI prefix and signals a batch metadata update (ERC-4906)', async () => {
    await mintAsset(w, w.owner, 'a')
    await mintAsset(w, w.owner, 'b')
    expect(await w.nft.tokenURI(1)).toBe('')
    const r = await mined(as(w.nft, w.admin).setBaseTokenURI('https://stillflow.example/api/assets/31337/'))
    expectEvent(r, w.nft, 'BaseTokenURISet', ['https://stillflow.example/api/assets/31337/'])
    expectEvent(r, w.nft, 'BatchMetadataUpdate', [1n, 2n])
    expect(await w.nft.tokenURI(2)).toBe('https://stillflow.example/api/assets/31337/2')
    await expectRevert(w.nft.tokenURI(3), 'ERC721NonexistentToken', [3n])
  })

  it('refuses anyone but the admin', async () => {
    await expectRevert(as(w.nft, w.supervisor).setBaseTokenURI('x'), 'AccessControlUnauthorizedAccount', [
      w.supervisor.address,
      ZeroHash,
    ])
  })
})

describe('DataAssetNFT views', () => {
  it('revert with a custom error for nonexistent tokens and return 0 for unknown content', async () => {
    await expectRevert(w.nft.assetInfo(99), 'DataAssetNFTNonexistentToken', [99n])
    await expectRevert(w.nft.assetStatus(99), 'DataAssetNFTNonexistentToken', [99n])
    await expectRevert(w.nft.mintedAt(99), 'DataAssetNFTNonexistentToken', [99n])
    await expectRevert(w.nft.amendmentCount(99), 'DataAssetNFTNonexistentToken', [99n])
    expect(await w.nft.tokenIdOfContent(word('nothing'))).toBe(0n)
    expect(await w.nft.delegateOf(99)).toBe(ZeroAddress)
    expect(await w.nft.totalMinted()).toBe(0n)
  })
})

describe('DataAssetNFT as an ERC-721 wallets rely on', () => {
  it('has a name and symbol', async () => {
    expect(await w.nft.name()).toBe('Stillflow Data Asset')
    expect(await w.nft.symbol()).toBe('SFDATA')
  })

  it('transfers by owner, approved account and operator; clears approval on transfer', async () => {
    await mintAsset(w, w.owner, 'a')
    const a = await mined(as(w.nft, w.owner).approve(w.other.address, 1))
    expectEvent(a, w.nft, 'Approval', [w.owner.address, w.other.address, 1n])
    expect(await w.nft.getApproved(1)).toBe(w.other.address)
    await mined(as(w.nft, w.other).transferFrom(w.owner.address, w.buyer.address, 1))
    expect(await w.nft.ownerOf(1)).toBe(w.buyer.address)
    expect(await w.nft.getApproved(1)).toBe(ZeroAddress)
    expect(await w.nft.balanceOf(w.owner.address)).toBe(0n)

    const o = await mined(as(w.nft, w.buyer).setApprovalForAll(w.stranger.address, true))
    expectEvent(o, w.nft, 'ApprovalForAll', [w.buyer.address, w.stranger.address, true])
    expect(await w.nft.isApprovedForAll(w.buyer.address, w.stranger.address)).toBe(true)
    const t = await mined(
      as(w.nft, w.stranger)['safeTransferFrom(address,address,uint256)'](w.buyer.address, w.owner.address, 1),
    )
    expectEvent(t, w.nft, 'Transfer', [w.buyer.address, w.owner.address, 1n])
    // Each change of hands is counted (the market retires offers set before it); the mint is not.
    expect((await w.nft.assetInfo(1)).transfers).toBe(2n)
  })

  it('refuses unauthorised transfers and bad addresses', async () => {
    await mintAsset(w, w.owner, 'a')
    await expectRevert(
      as(w.nft, w.stranger).transferFrom(w.owner.address, w.stranger.address, 1),
      'ERC721InsufficientApproval',
      [w.stranger.address, 1n],
    )
    await expectRevert(as(w.nft, w.owner).transferFrom(w.owner.address, ZeroAddress, 1), 'ERC721InvalidReceiver', [
      ZeroAddress,
    ])
    await expectRevert(as(w.nft, w.owner).transferFrom(w.other.address, w.buyer.address, 1), 'ERC721IncorrectOwner', [
      w.other.address,
      1n,
      w.owner.address,
    ])
    await expectRevert(as(w.nft, w.stranger).approve(w.stranger.address, 1), 'ERC721InvalidApprover', [
      w.stranger.address,
    ])
    expect((await w.nft.assetInfo(1)).transfers).toBe(0n) // a refused transfer counts nothing
    await expectRevert(w.nft.balanceOf(ZeroAddress), 'ERC721InvalidOwner', [ZeroAddress])
    await expectRevert(w.nft.ownerOf(42), 'ERC721NonexistentToken', [42n])
  })

  it('safe-transfers only to receivers that accept', async () => {
    await mintAsset(w, w.owner, 'a')
    const refuser = await deployTest('TestReceiver', w.deployer, [false, false])
    const acceptor = await deployTest('TestReceiver', w.deployer, [true, false])
    const plain = await deployTest('TestERC20', w.deployer) // a contract with no receiver hook
    const safe = (to: string) => as(w.nft, w.owner)['safeTransferFrom(address,address,uint256)'](w.owner.address, to, 1)
    await expectRevert(safe(await refuser.getAddress()), 'ERC721InvalidReceiver', [await refuser.getAddress()])
    await expectRevert(safe(await plain.getAddress()), 'ERC721InvalidReceiver', [await plain.getAddress()])
    await expectRevert(
      as(w.nft, w.owner)['safeTransferFrom(address,address,uint256,bytes)'](
        w.owner.address,
        await refuser.getAddress(),
        1,
        '0xbeef',
      ),
      'ERC721InvalidReceiver',
      [await refuser.getAddress()],
    )
    await mined(safe(await acceptor.getAddress()))
    expect(await w.nft.ownerOf(1)).toBe(await acceptor.getAddress())
  })

  it('answers ERC-165 for ERC-721, Metadata, ERC-2981, ERC-4906 and AccessControl only', async () => {
    const yes = ['0x01ffc9a7', '0x80ac58cd', '0x5b5e139f', '0x2a55205a', '0x49064906', '0x7965db0b']
    const no = ['0xffffffff', '0x780e9d63', '0x00000000']
    for (const i of yes) expect(await w.nft.supportsInterface(i)).toBe(true)
    for (const i of no) expect(await w.nft.supportsInterface(i)).toBe(false)
  })
})
