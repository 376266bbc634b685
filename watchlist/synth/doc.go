// Package synth generates deterministic synthetic watchlists for tests,
// benchmarks and the demo: document alerts with realistic numbers per
// issuing state (including long TD1 numbers), and listed persons with names
// from many cultures and scripts (Cyrillic, Greek, Vietnamese and German
// diacritics in original script; Arabic-origin, Chinese and Korean names with
// their competing romanisations as aliases), partial dates of birth,
// categories, action codes and optional face templates.
//
// Every record is a pure function of (seed, kind, index), so a generator can
// stream 100 million records without holding them and a benchmark can ask
// for record i again to query it. Nothing here is real personal data.
package synth
