"""A self-contained PyTorch mirror of Hugging Face ``ElectraModel``.

``ElectraModel`` is the discriminator's (and generator's) base model: BERT
embeddings of width ``embedding_size`` (word, position, token type, then a
LayerNorm of that width), then, when ``embedding_size != hidden_size``, the
``embeddings_project`` Linear(embedding_size, hidden_size), then a BERT
encoder.  It has no pooler: the only output is ``last_hidden_state``.
Module tree and parameter names follow
``transformers.models.electra.modeling_electra`` (eval mode, absolute
positions); the encoder is BERT's (HF: "Copied from Bert"), taken from
``bert_mirror``.  Dropout is omitted (identity in eval mode).
"""

from dataclasses import dataclass

import torch
from torch import nn

from bert_mirror import BertEncoder, HfConfig

INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]
OUTPUT_NAMES = ["last_hidden_state"]
INPUT_SPECIALS = {}  # a BERT vocabulary: [CLS] stand-in 1, [PAD] 0
DEFAULTS = {}


@dataclass
class ElectraConfig(HfConfig):
    """The subset of HF ``ElectraConfig`` that affects inference (HF's
    defaults, except the sizes, which are small)."""

    vocab_size: int = 1000
    embedding_size: int = 32
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    intermediate_size: int = 256
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_act: str = "gelu"
    pad_token_id: int = 0


class ElectraEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.embedding_size,
                                            padding_idx=cfg.pad_token_id)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings,
                                                cfg.embedding_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size,
                                                  cfg.embedding_size)
        self.LayerNorm = nn.LayerNorm(cfg.embedding_size,
                                      eps=cfg.layer_norm_eps)
        # Like HF: a (1, max_pos) buffer sliced to the sequence length.
        self.register_buffer(
            "position_ids",
            torch.arange(cfg.max_position_embeddings).expand((1, -1)),
            persistent=False)

    def forward(self, input_ids, token_type_ids):
        seq_length = input_ids.size()[1]
        position_ids = self.position_ids[:, 0:seq_length]
        embeddings = (self.word_embeddings(input_ids)
                      + self.token_type_embeddings(token_type_ids))
        embeddings += self.position_embeddings(position_ids)
        return self.LayerNorm(embeddings)


class ElectraModel(nn.Module):
    """forward(input_ids, attention_mask, token_type_ids)
    -> last_hidden_state [B,S,H]."""

    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.embeddings = ElectraEmbeddings(cfg)
        if cfg.embedding_size != cfg.hidden_size:
            self.embeddings_project = nn.Linear(cfg.embedding_size,
                                                cfg.hidden_size)
        self.encoder = BertEncoder(cfg)

    def forward(self, input_ids, attention_mask, token_type_ids):
        # HF get_extended_attention_mask, with the -10000 of bert_mirror.
        ext_mask = attention_mask[:, None, None, :].to(dtype=torch.float32)
        ext_mask = (1.0 - ext_mask) * -10000.0
        hidden_states = self.embeddings(input_ids, token_type_ids)
        if hasattr(self, "embeddings_project"):
            hidden_states = self.embeddings_project(hidden_states)
        return self.encoder(hidden_states, ext_mask)


def build(args):
    """The make_fixture model; ``--embedding-size`` defaults to hidden/2
    (electra-small-discriminator: 128 vs 256)."""
    cfg = ElectraConfig(vocab_size=args.vocab,
                        embedding_size=args.embedding_size or args.hidden // 2,
                        hidden_size=args.hidden,
                        num_hidden_layers=args.layers,
                        num_attention_heads=args.heads,
                        intermediate_size=args.ffn,
                        max_position_embeddings=args.max_pos,
                        hidden_act="gelu" if args.gelu == "erf"
                        else "gelu_new")
    return ElectraModel(cfg)
