// The binding the PSI routes need, declared next to them (wrangler.toml: PSI_SESSIONS → PsiSession).
import type { Bindings } from '../env'
import type { PsiSession } from './session'

export type PsiBindings = Bindings & { PSI_SESSIONS: DurableObjectNamespace<PsiSession> }
