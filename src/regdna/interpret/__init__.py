"""Interpretation: what a trained model looks at, and whether that is real.

- `attribute`: attribution maps for any model (gradient methods via captum, ISM);
- `attention`: attention, rollout, GradCAM and Chefer et al. relevance for transformers;
- `token_map`: token scores -> base scores;
- `faithfulness`: mutagenesis test of attributions against random positions (Consens et al. n.d.);
- `motifs`: TF-MoDISco motifs and first-layer filters matched to JASPAR with Tomtom;
- `gia`: global importance analysis (embedded motifs, distance / orientation / flank sweeps);
- `sites`: known motif sites (planted or annotated) and the AUROC of attributions at them.
"""
