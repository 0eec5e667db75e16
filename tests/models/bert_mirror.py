"""A self-contained PyTorch mirror of Hugging Face ``BertModel``.

The module tree, parameter names and arithmetic follow
``transformers.models.bert.modeling_bert`` (eval mode, absolute position
embeddings, no KV cache) so that:

* Hugging Face safetensors checkpoints (e.g. all-MiniLM-L6-v2) load into it
  unchanged, and
* ``torch.onnx.export`` of it yields the same ONNX graph shape a user would
  get from exporting the real ``transformers`` model (Shape/Gather/Slice on
  ``position_ids``, Unsqueeze/Cast/Sub/Mul for the additive mask, MatMul +
  Add linears, Reshape/Transpose for the heads, Erf-based GELU, ...).

We do not depend on ``transformers`` itself: it is large, pulls many
dependencies and its export path changes between versions.  Dropout is
omitted because it is an identity in eval mode (and is elided on export).
"""

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn


class HfConfig:
    """What every mirror's config dataclass shares: built from a parsed HF
    ``config.json`` (unknown keys ignored) and written back as a dict."""

    # Mirrors of models with only absolute position embeddings refuse
    # configs asking for another kind.
    absolute_positions_only = True

    @classmethod
    def from_hf_dict(cls, d):
        """Build from a parsed HF ``config.json``; unknown keys are ignored."""
        if cls.absolute_positions_only and \
                d.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only absolute position embeddings are supported")
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in fields})

    def to_dict(self):
        return asdict(self)


@dataclass
class BertConfig(HfConfig):
    """The subset of HF ``BertConfig`` that affects inference."""

    vocab_size: int = 1000
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    intermediate_size: int = 256
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_act: str = "gelu"  # "gelu" (erf) or "gelu_new" (tanh approx)
    num_labels: int = 2  # only used by BertForSequenceClassification


def gelu_erf(x):
    """Exact GELU, as HF ``"gelu"`` (exported as Div/Erf/Add/Mul/Mul)."""
    return nn.functional.gelu(x)


def gelu_tanh(x):
    """Tanh approximation, written exactly like HF ``NewGELUActivation``."""
    return 0.5 * x * (1.0 + torch.tanh(
        math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ACTIVATIONS = {"gelu": gelu_erf, "gelu_new": gelu_tanh,
               "gelu_pytorch_tanh": gelu_tanh}


class BertEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings,
                                                cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size,
                                                  cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        # Like HF: a (1, max_pos) buffer sliced to the sequence length.
        self.register_buffer(
            "position_ids",
            torch.arange(cfg.max_position_embeddings).expand((1, -1)))

    def forward(self, input_ids, token_type_ids):
        seq_length = input_ids.size()[1]
        position_ids = self.position_ids[:, 0:seq_length]
        embeddings = (self.word_embeddings(input_ids)
                      + self.token_type_embeddings(token_type_ids))
        embeddings += self.position_embeddings(position_ids)
        return self.LayerNorm(embeddings)


class BertSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg.hidden_size % cfg.num_attention_heads:
            raise ValueError("hidden_size must be a multiple of the heads")
        self.num_attention_heads = cfg.num_attention_heads
        self.attention_head_size = cfg.hidden_size // cfg.num_attention_heads
        self.all_head_size = cfg.hidden_size
        self.query = nn.Linear(cfg.hidden_size, self.all_head_size)
        self.key = nn.Linear(cfg.hidden_size, self.all_head_size)
        self.value = nn.Linear(cfg.hidden_size, self.all_head_size)

    def transpose_for_scores(self, x):
        new_x_shape = x.size()[:-1] + (self.num_attention_heads,
                                       self.attention_head_size)
        return x.view(new_x_shape).permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask):
        query_layer = self.transpose_for_scores(self.query(hidden_states))
        key_layer = self.transpose_for_scores(self.key(hidden_states))
        value_layer = self.transpose_for_scores(self.value(hidden_states))

        scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
        scores = scores / math.sqrt(self.attention_head_size)
        scores = scores + attention_mask
        probs = nn.functional.softmax(scores, dim=-1)

        context = torch.matmul(probs, value_layer)
        context = context.permute(0, 2, 1, 3).contiguous()
        new_shape = context.size()[:-2] + (self.all_head_size,)
        return context.view(new_shape)


class BertSelfOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dense(hidden_states) + input_tensor)


class BertAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self = BertSelfAttention(cfg)
        self.output = BertSelfOutput(cfg)

    def forward(self, hidden_states, attention_mask):
        return self.output(self.self(hidden_states, attention_mask),
                           hidden_states)


class BertIntermediate(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        self.intermediate_act_fn = ACTIVATIONS[cfg.hidden_act]

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.intermediate_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dense(hidden_states) + input_tensor)


class BertLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = BertAttention(cfg)
        self.intermediate = BertIntermediate(cfg)
        self.output = BertOutput(cfg)

    def forward(self, hidden_states, attention_mask):
        attention_output = self.attention(hidden_states, attention_mask)
        return self.output(self.intermediate(attention_output),
                           attention_output)


class BertEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList(
            [BertLayer(cfg) for _ in range(cfg.num_hidden_layers)])

    def forward(self, hidden_states, attention_mask):
        for layer_module in self.layer:
            hidden_states = layer_module(hidden_states, attention_mask)
        return hidden_states


class BertPooler(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, hidden_states):
        return torch.tanh(self.dense(hidden_states[:, 0]))


class BertModel(nn.Module):
    """forward(input_ids, attention_mask, token_type_ids)
    -> (last_hidden_state [B,S,H], pooler_output [B,H])."""

    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = BertEncoder(cfg)
        self.pooler = BertPooler(cfg)

    def forward(self, input_ids, attention_mask, token_type_ids):
        # HF get_extended_attention_mask (pre-4.21 constant): 0 keeps a key,
        # -10000 masks it; broadcast over heads and query positions. A 3-D
        # [B, S, S] mask (one row of keys per query, e.g. causal) is
        # broadcast over heads only, as HF does.
        if attention_mask.dim() == 3:
            ext_mask = attention_mask[:, None, :, :].to(dtype=torch.float32)
        else:
            ext_mask = attention_mask[:, None, None, :].to(dtype=torch.float32)
        ext_mask = (1.0 - ext_mask) * -10000.0
        embedding_output = self.embeddings(input_ids, token_type_ids)
        sequence_output = self.encoder(embedding_output, ext_mask)
        return sequence_output, self.pooler(sequence_output)


class BertForSequenceClassification(nn.Module):
    """HF-style classifier: ``bert.*`` + ``classifier``; returns logits."""

    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.bert = BertModel(cfg)
        self.classifier = nn.Linear(cfg.hidden_size, cfg.num_labels)

    def forward(self, input_ids, attention_mask, token_type_ids):
        _, pooled_output = self.bert(input_ids, attention_mask, token_type_ids)
        return self.classifier(pooled_output)


def init_hashed_weights(model, seed=0, std=0.02):
    """Like init_random_weights, but every value is an exact function of
    its index (a multiplicative hash), computed in integers and rounded to
    float32 once: the same bits on every machine and PyTorch build, which
    golden copies of generated code (tests/golden) need. Values are uniform
    in [-std*sqrt(3), std*sqrt(3)) (LayerNorm gamma 1 + that x 5, beta that
    x 5), so the model stays numerically tame."""
    offset = seed * 1000003
    with torch.no_grad():
        for name, p in model.named_parameters():
            n = p.numel()
            idx = np.arange(offset, offset + n, dtype=np.uint64)
            offset += n
            h = (idx * np.uint64(2654435761)) % np.uint64(1 << 32)
            u = h.astype(np.float64) / float(1 << 32) - 0.5  # [-0.5, 0.5)
            a = 2.0 * np.sqrt(3.0) * std * u
            if ".LayerNorm." in "." + name:
                a = (1.0 + 5.0 * a) if name.endswith("weight") else 5.0 * a
            p.copy_(torch.from_numpy(a.astype(np.float32).reshape(p.shape)))
    return model


def init_random_weights(model, seed=0, std=0.02):
    """Deterministically fill every parameter of ``model``.

    Linear/Embedding weights and biases ~ N(0, std) (biases non-zero so a
    dropped bias add is caught); LayerNorm gamma = 1 + 0.1*N(0,1) and
    beta = 0.1*N(0,1) so a compiler ignoring LayerNorm params is caught.
    Parameters are visited in ``named_parameters`` order, so the result only
    depends on the config and the seed.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=p.dtype)
            if ".LayerNorm." in "." + name:
                if name.endswith("weight"):
                    p.copy_(1.0 + 0.1 * noise)
                else:
                    p.copy_(0.1 * noise)
            else:
                p.copy_(std * noise)
    return model


def load_hf_state_dict(model, state_dict):
    """Load an HF BERT state dict (torch tensors) into ``model``, strictly.

    Accepts keys with or without the ``bert.`` prefix (matching what the
    target module expects) and with or without the ``embeddings.position_ids``
    buffer.  Any missing parameter or unexpected key raises ``KeyError``.
    """
    wants_prefix = isinstance(model, BertForSequenceClassification)
    fixed = {}
    for key, value in state_dict.items():
        bare = key[len("bert."):] if key.startswith("bert.") else key
        is_head = bare.startswith("classifier.")
        fixed[("bert." + bare) if wants_prefix and not is_head else bare] = \
            value

    expected = model.state_dict()
    pos_key = ("bert." if wants_prefix else "") + "embeddings.position_ids"
    if pos_key in fixed and not torch.equal(
            fixed[pos_key].to(torch.int64), expected[pos_key]):
        raise ValueError("checkpoint position_ids is not arange(max_pos)")
    fixed[pos_key] = expected[pos_key]

    missing = sorted(set(expected) - set(fixed))
    unexpected = sorted(set(fixed) - set(expected))
    if missing or unexpected:
        raise KeyError(f"state dict mismatch: missing={missing[:8]} "
                       f"unexpected={unexpected[:8]}")
    for key, value in fixed.items():
        if tuple(value.shape) != tuple(expected[key].shape):
            raise ValueError(f"{key}: shape {tuple(value.shape)} != "
                             f"{tuple(expected[key].shape)}")
    model.load_state_dict(fixed, strict=True)
    return model


def load_safetensors(model, path):
    """Load an HF ``model.safetensors`` file into ``model`` (see above)."""
    from safetensors.torch import load_file
    return load_hf_state_dict(model, load_file(str(path)))
