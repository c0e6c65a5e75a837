"""Parameter dataclass fields <-> command-line options, in both directions.

The parser reads options into a parameters dataclass with
:func:`add_param_options` and :func:`params_from_args`; the commands that
reproduce a result write a dataclass back as options with
:func:`params_options`.  A field ``fast_mode`` is the option ``--fast-mode``
(and ``--no-fast-mode`` for a boolean) in both directions.
"""

from __future__ import annotations

import argparse
import dataclasses

from et_denoise.cli.errors import UserError
from et_denoise.engine.errors import ParameterError
from et_denoise.engine.params import MethodParams


def option_name(field_name: str) -> str:
    """The option of a parameter field: ``fast_mode`` -> ``--fast-mode``."""
    return "--" + field_name.replace("_", "-")


def option_names(field_names) -> str:
    """Several options for a message: ``--size, --mode``."""
    return ", ".join(option_name(name) for name in field_names)


def filter_owners() -> dict:
    """{method name: parameters type} of every filter."""
    from et_denoise.engine.filters import FILTERS

    return {name: method.params_type for name, method in FILTERS.items()}


def n2v_owners() -> dict:
    """{"n2v": N2VParams}: the training parameters."""
    from et_denoise.engine.n2v import N2VParams

    return {"n2v": N2VParams}


def param_fields(owners: dict) -> dict:
    """Every command-line field of ``owners`` ({name: params type}): {field name: [(owner, field), ...]}."""
    fields = {}
    for owner, params_type in owners.items():
        for field in dataclasses.fields(params_type):
            if field.metadata.get("cli", True):
                fields.setdefault(field.name, []).append((owner, field))
    return fields


def add_param_options(parser: argparse.ArgumentParser, owners: dict, title: str, aliases=None) -> None:
    """One option per parameter field, with the field's help text; None when not given."""
    aliases = aliases or {}
    group = parser.add_argument_group(title)
    for name, fields in param_fields(owners).items():
        field = fields[0][1]
        meta = field.metadata
        defaults = {str(f.default) for _, f in fields}
        default_text = f"default {defaults.pop()}" if len(defaults) == 1 else "default depends on the method"
        which = f"[{', '.join(owner for owner, _ in fields)}] " if len(owners) > 1 else ""
        help_text = f"{which}{meta['help']} ({default_text})".replace("%", "%%")  # argparse formats help with %
        options = [option_name(name), *aliases.get(name, ())]
        kind = type(field.default)
        if kind is bool:
            group.add_argument(*options, dest=name, action=argparse.BooleanOptionalAction, default=None,
                               help=help_text)
        elif meta.get("choices"):
            group.add_argument(*options, dest=name, choices=meta["choices"], default=None, help=help_text)
        else:
            group.add_argument(*options, dest=name, type=kind, default=None, metavar=name.upper(), help=help_text)


def given_params(owners: dict, args: argparse.Namespace) -> set:
    """The names of the parameter options given on the command line."""
    return {name for name in param_fields(owners) if getattr(args, name, None) is not None}


def params_from_args(owner: str, owners: dict, args: argparse.Namespace) -> MethodParams:
    """Build ``owner``'s parameters from the options given; options of other owners are an error."""
    given = given_params(owners, args)
    params_type = owners[owner]
    foreign = sorted(given - {f.name for f in dataclasses.fields(params_type)})
    if foreign:
        raise UserError(f"{option_names(foreign)} does not apply to --method {owner}")
    return params_type(**{name: getattr(args, name) for name in given})


def params_options(params: MethodParams) -> list[str]:
    """Every parameter as command-line words: ``["--size", "5", "--mode", "2d", "--no-fast-mode"]``.

    Parameters
    ----------
    params : MethodParams
        A method's parameters dataclass.

    Returns
    -------
    list of str
        ``--field-name value`` for numbers and choices (floats written with
        :func:`repr`, which reads back to the identical value), ``--x`` or
        ``--no-x`` for booleans.

    Raises
    ------
    ParameterError
        A parameter the command line does not offer has a value other than its
        default, so no command could reproduce it.

    Examples
    --------
    >>> from et_denoise.engine.filters import FILTERS
    >>> params_options(FILTERS["median"].params_type(size=7))
    ['--size', '7', '--footprint', 'square', '--mode', '2d']
    """
    words = []
    for field in dataclasses.fields(params):
        value = getattr(params, field.name)
        option = option_name(field.name)
        if not field.metadata.get("cli", True):
            if value != field.default:
                raise ParameterError(f"{field.metadata.get('label', field.name)} = {value!r} "
                                     "cannot be given on the command line")
            continue
        if isinstance(value, bool):
            words.append(option if value else "--no-" + option[2:])
        else:
            words += [option, repr(value) if isinstance(value, float) else str(value)]
    return words
