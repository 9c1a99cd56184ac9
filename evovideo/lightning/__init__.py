from evovideo.lightning.pretrain import PretrainModule, run_pretraining  # noqa: E402  (issue 4)
from evovideo.lightning.datamodules import (  # noqa: E402,F401  (issue 3)
    FolderDataModule,
    HMDB51DataModule,
    KineticsDataModule,
    SyntheticDataModule,
    UCF101DataModule,
    VideoDataModule,
)
from evovideo.lightning.flow_cache_callback import FlowCacheCallback  # noqa: E402,F401  (issue 15)
from evovideo.lightning.pytorchvideo_datamodule import PytorchvideoDataModule  # noqa: E402,F401  (issue 15)
from evovideo.lightning.zipf_callback import ZipfCallback  # noqa: E402,F401  (issue 5)
from evovideo.lightning.finetune import FinetuneModule  # noqa: E402,F401  (issue 7)
