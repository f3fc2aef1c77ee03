"""`train --scheduler`: the learning-rate schedules the command offers, built from optim.lr_scheduler (torch's
formulas). cosine and step move the rate after every optimisation step; plateau after every validation
(--eval-every), on the validation bits per character."""
from ..optim import lr_scheduler

SCHEDULERS = {
    "none": "a constant learning rate",
    "cosine": "CosineAnnealingLR: from --lr down to --lr-min over the run's --steps (T_max), torch's formula",
    "step": "StepLR: the rate times --lr-gamma every --lr-step-size steps",
    "plateau": "ReduceLROnPlateau on the validation bits per character: the rate times --lr-gamma after more "
               "than --lr-patience validations without improvement, down to --lr-min",
}


def build(name, optimizer, options):
    """The scheduler `name` for `optimizer` with the run's options (lr_t_max, lr_step_size, lr_gamma, lr_min,
    lr_patience), or None for "none"."""
    if name == "none":
        return None
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=options["lr_t_max"], eta_min=options["lr_min"])
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=options["lr_step_size"], gamma=options["lr_gamma"])
    if name == "plateau":
        return lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=options["lr_gamma"],
                                              patience=options["lr_patience"], min_lr=options["lr_min"])
    raise ValueError(f"scheduler: expected one of {', '.join(SCHEDULERS)}, but got {name!r}")


def steps_per_update(name):
    """What advances the schedule: "step" (each optimisation step), "validation", or None."""
    return {"none": None, "cosine": "step", "step": "step", "plateau": "validation"}[name]
