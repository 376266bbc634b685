// Package evalset is the evaluation set of person screening, built from
// the real lists (../shared/testdata/lists through watchlist/lists):
// travellers derived from listed persons the way real documents differ
// from list entries (ICAO MRZ form, listed aliases, transliterated
// original-script names, TD1 and TD3 truncation, swapped name fields, one
// OCR or spelling error, alternative and partial dates of birth), and
// negatives that look dangerous (namesakes with excluded dates of birth,
// one person's given names with another's surname, ordinary names of many
// countries). Run screens them through Store.ScreenPersons and reports
// recall and false alerts per kind at the store's thresholds; `checkpointctl
// watchlist evaluate` prints it and a test keeps the budgets (recall ≥ 99%
// on every positive kind, ≤ 1% false alerts on every negative kind).
//
// Cases hold personal data from public lists; they live in memory only.
package evalset
