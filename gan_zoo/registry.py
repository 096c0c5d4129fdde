"""What gan-zoo knows by name, each kind read from the one place that defines it.

* Model families: the config tree. `conf/model/<family>.yaml` is the family; its `_target_` is the
  GANModule subclass, defined in `gan_zoo/models/<family>/` (the class's `family` is that folder's
  name, `GANModule.__init_subclass__`). A test checks that the file names, folders and classes agree.
* Metrics: `@register_metric` in `gan_zoo.metrics` (`gan_zoo.metrics.kinds`); imported only when
  asked for, so `import gan_zoo` stays light.
"""

from gan_zoo.config_dir import config_options


def list_models() -> list[str]:
    return config_options("model")


def list_metrics() -> list[str]:
    from gan_zoo.metrics.kinds import registered_examples

    return sorted(registered_examples())
