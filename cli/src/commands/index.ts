// Every command of the CLI, in the order `stillflow --help` lists them.
import type { Command } from '../command'
import { assets } from './assets'
import { login, logout, whoami } from './auth'
import { publishCommand } from './publish'
import { psiCommand } from './psi'
import { buyCommand } from './buy'
import { jobCommand } from './job'
import { offerCommand } from './offer'
import { withdrawCommand } from './withdraw'

export const commands: Command[] = [
  login,
  whoami,
  logout,
  publishCommand,
  assets,
  psiCommand,
  offerCommand,
  buyCommand,
  jobCommand,
  withdrawCommand,
]
