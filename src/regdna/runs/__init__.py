"""The run dir contract, as `regdna.data.dataset` is the dataset dir contract: the layout and the
readers / writers of its files (`regdna.runs.layout`), the config schema (`regdna.runs.config`),
checkpoints (`regdna.runs.checkpoint`) and the one `load_predictor(run_dir)`.

`Predictor` and `load_predictor` are imported on first use, so that the light modules of the
package (layout, config) do not import torch.
"""
__all__ = ["Predictor", "load_predictor"]


def __getattr__(name: str):
    if name in __all__:
        from regdna.runs import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module 'regdna.runs' has no attribute '{name}'")
