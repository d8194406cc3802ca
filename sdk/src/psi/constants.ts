// The fixed parameters of Stillflow's PSI: one domain-separation tag, one element size.

/**
 * RFC 9380 §3.1 domain-separation tag: application, version and the suite whose first half we use
 * (curve25519_XMD:SHA-512_ELL2_NU_, §8.5). Changing it changes every blinded value, so it is versioned.
 */
export const PSI_DST = 'Stillflow-PSI-v1-curve25519_XMD:SHA-512_ELL2_NU_'

/** Bytes of one group element on the wire: an RFC 7748 Montgomery u-coordinate, little-endian. */
export const ELEMENT_BYTES = 32

/** Bytes of a party's secret scalar (X or Y): an RFC 7748 X25519 private key, clamped on use. */
export const SCALAR_BYTES = 32
