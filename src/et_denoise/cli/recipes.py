"""What ``denoise`` and ``batch`` run: the part of the input, the recipe the options describe, and its slab job."""

from __future__ import annotations

from pathlib import Path

from et_denoise.cli.errors import UserError
from et_denoise.cli.options import filter_owners, given_params, params_from_args


def recipe_from_options(args):
    """The :class:`~engine.recipe.Recipe` that ``--method``, ``--model`` and the filter options describe."""
    from et_denoise.engine.recipe import N2V, Recipe

    if args.method == N2V:
        if not args.model:
            raise UserError("--method n2v needs --model DIR (a model folder saved by 'train' or the app)")
        if given_params(filter_owners(), args):
            raise UserError("filter options do not apply to --method n2v (the model holds its parameters)")
        return Recipe(N2V, None, Path(args.model))
    if args.model:
        raise UserError(f"--model applies only to --method n2v, not {args.method}")
    return Recipe(args.method, params_from_args(args.method, filter_owners(), args))


def job_maker(recipe, *, on_cluster: bool = False):
    """``(make_job(volume, cancel), label)`` for a recipe; a model is loaded once for all inputs.

    On a cluster a model's job travels as its folder, which each worker loads once.
    """
    from et_denoise.engine.volume import method_job, model_job

    if recipe.model is not None:
        if recipe.model.is_file():
            raise UserError(f"{recipe.model}: this is a file; --model needs the model folder saved by 'train'")
        from et_denoise.engine.n2v import TrainedModel

        job = model_job(TrainedModel.load(recipe.model), folder=recipe.model if on_cluster else None)
        return (lambda volume, cancel: job), job.label
    from et_denoise.engine.filters import FILTERS

    method = FILTERS[recipe.method]
    return (lambda volume, cancel: method_job(method, recipe.params, volume, cancel=cancel)), method.label


def selected_part(volume, args):
    """The part of ``volume`` that ``--region`` and ``--bin`` select (the volume itself without them).

    Raises
    ------
    UserError
        The region cannot be read or lies outside this volume, or binning
        leaves nothing of it: the engine's reason after the options given.
    """
    from et_denoise.engine.errors import ParameterError

    try:
        return volume.subvolume(args.region, args.bin)
    except ParameterError as error:
        given = ([f"--region {args.region}"] if args.region is not None else []) + (
            [f"--bin {args.bin}"] if args.bin != 1 else [])
        raise UserError(f"{' '.join(given)} — {error}") from None
