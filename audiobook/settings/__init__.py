"""Settings: the show's podcast.toml (``showfile``), the layers every build
resolves once (``layers``), and the checks of single values (``checks``)."""
from audiobook.settings.layers import Settings, SettingLayers, from_front_matter, read_layers
from audiobook.settings.showfile import COVER_FILE, FEED_FILE, SHOW_FILE, ShowSettings, read_show_file, read_toml

__all__ = ["COVER_FILE", "FEED_FILE", "SHOW_FILE", "SettingLayers", "Settings", "ShowSettings", "from_front_matter", "read_layers",
           "read_show_file", "read_toml"]
