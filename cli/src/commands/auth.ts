// `stillflow login | whoami | logout`: a Sign-In with Ethereum session for the API (EIP-4361).
import { getAddress } from 'ethers'
import { SiweMessage } from 'siwe'
import type { Command } from '../command'
import { ApiClient } from '../../../sdk/src/index'
import {
  api,
  apiUrl,
  asCliError,
  clearSession,
  keyOptions,
  readSession,
  requireSession,
  saveSession,
  signer,
} from '../context'

export const login: Command = {
  name: 'login',
  summary: 'sign in to the marketplace with your wallet key (Sign-In with Ethereum)',
  usage: 'stillflow login [--key-file FILE | --dev-account N] [--api URL] [--rpc URL]',
  options: keyOptions,
  async run(ctx) {
    const wallet = await signer(ctx)
    const client = api(ctx)
    const url = new URL(apiUrl(ctx))
    try {
      const chainId = Number((await wallet.provider!.getNetwork()).chainId)
      const { nonce } = await client.request<{ nonce: string }>('/auth/nonce', { method: 'POST' })
      const message = new SiweMessage({
        domain: url.host,
        address: wallet.address,
        statement: 'Sign in to Stillflow.',
        uri: url.origin,
        version: '1',
        chainId,
        nonce,
        issuedAt: new Date().toISOString(),
      }).prepareMessage()
      const signature = await wallet.signMessage(message)
      const session = await client.request<{ token: string; address: string; expiresAt: string }>('/auth/login', {
        method: 'POST',
        json: { message, signature },
      })
      saveSession(ctx, {
        apiUrl: apiUrl(ctx),
        address: session.address,
        token: session.token,
        expiresAt: session.expiresAt,
      })
      if (!ctx.json) ctx.stdout.write(`signed in as ${session.address} until ${session.expiresAt}\n`)
      return { address: session.address, expiresAt: session.expiresAt }
    } catch (err) {
      asCliError(err)
    }
  },
}

export const whoami: Command = {
  name: 'whoami',
  summary: 'show the account this CLI is signed in as',
  usage: 'stillflow whoami [--api URL]',
  options: { api: keyOptions.api },
  async run(ctx) {
    const session = requireSession(ctx)
    try {
      const me = await api(ctx, session).request<{ address: string }>('/auth/me')
      // Checksummed, as login prints it (the API keeps addresses in lower case).
      const address = getAddress(me.address)
      if (!ctx.json) ctx.stdout.write(`${address}\n`)
      return { ...me, address }
    } catch (err) {
      asCliError(err)
    }
  },
}

export const logout: Command = {
  name: 'logout',
  summary: 'end the session',
  usage: 'stillflow logout',
  options: { api: keyOptions.api },
  async run(ctx) {
    // Ended where it was made, whatever --api says: the token goes to no other API.
    const session = readSession(ctx)
    if (session)
      await new ApiClient({ apiUrl: session.apiUrl, sessionToken: session.token })
        .request('/auth/logout', { method: 'POST' })
        .catch(() => undefined)
    clearSession(ctx)
    if (!ctx.json) ctx.stdout.write('signed out\n')
    return { signedOut: true }
  },
}
