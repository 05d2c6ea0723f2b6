"""`make bench` (`python -m benchmarks` from the repository's root): how fast Dayori is against what it replaces,
as ratios measured in the same run, so that they mean the same on any machine. Outside the product: nothing in
`src/dayori` imports it. Shared with the tests through `testsupport` (the synthetic archive, the local servers)."""
