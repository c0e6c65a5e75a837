"""What the commands print: results worded for the terminal, with the options to use next."""

from __future__ import annotations

from et_denoise.engine.analysis.mask_suggestion import NoiseAnalysis, render_mask


def noise_report(analysis: NoiseAnalysis) -> str:
    """The ``autocorr`` report: the correlation profiles, the suggested mask drawn, and its ``--mask`` option."""
    acf, suggestion = analysis.autocorrelation, analysis.suggestion
    lines = [f"Noise autocorrelation of the {acf.source}", ""]
    lines.append("shift" + "".join(f"{s:>7d}" for s in range(acf.radius + 1)))
    profiles = [("X", acf.profile_x, acf.radius), ("Y", acf.profile_y, acf.radius)]
    if acf.z_radius:
        profiles.append(("Z", acf.profile_z, acf.z_radius))
    for name, profile, middle in profiles:
        lines.append(f"{name:<5}" + "".join(f"{v:7.2f}" for v in profile[middle:]))
    lines += ["", f"Suggested mask: {suggestion.explanation}", render_mask(suggestion.mask), ""]
    if suggestion.spec is not None:
        lines.append(f"--mask {suggestion.spec}")
    else:
        lines += ["No preset has this shape: save these lines to a file (or write them with "
                  "--mask-out FILE) and pass --mask FILE:", suggestion.mask_file_text.rstrip("\n")]
    return "\n".join(lines)
