// The site's only way to the API: in-process through the worker's API binding when rendering on the
// server, so pages never hard-code an origin.

export interface RuntimeLocals {
  runtime?: { env?: { API?: { fetch: (input: string, init?: RequestInit) => Promise<Response> } } }
}

export async function apiFetch(locals: RuntimeLocals, path: string, init?: RequestInit): Promise<Response> {
  const api = locals.runtime?.env?.API
  if (!api) throw new Error('The API binding is missing: the site must be served by the Stillflow worker')
  return api.fetch(`http://stillflow.internal${path}`, init)
}
