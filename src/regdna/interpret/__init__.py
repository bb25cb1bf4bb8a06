"""Interpretation: what a trained model looks at, and whether that is real.

The verbs (one module each, `run_<verb>`):

- `attribute`: attribution maps with per-sequence logos;
- `faithfulness`: mutagenesis test of attributions against random positions (Consens et al.
  n.d.);
- `motifs`: motifs from attributions (and a CNN's first-layer filters) named by JASPAR;
- `gia`: global importance analysis (embedded motifs, distance / orientation / flank sweeps;
  Koo et al. 2021; Toneyan et al. 2022).

The methods they use:

- `attributions`: attribution maps for any model (gradient methods via captum, ISM);
- `attention`: attention, rollout, GradCAM and Chefer et al. (2021) relevance for transformers;
- `token_map`: token tensors of the sequences explained, token scores -> base scores;
- `modisco`: TF-MoDISco motif discovery; `motif_match`: Tomtom against JASPAR;
  `filters`: first-layer CNN filters as motifs (Toneyan et al. 2022);
- `sites`: known motif sites (planted or annotated) and the AUROC of attributions at them;
- `inputs`: records must have the model's input length.

Figures are drawn by `regdna.plot.logos`, `regdna.plot.faithfulness` and `regdna.plot.gia`.
"""
