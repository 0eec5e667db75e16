"""A self-contained PyTorch mirror of Hugging Face ``MobileBertModel``.

Module tree, parameter names and arithmetic follow
``transformers.models.mobilebert.modeling_mobilebert`` (eval mode), so
google/mobilebert-uncased's ``mobilebert.*`` parameters load by name.  The
defaults are HF's structure at small sizes:

* ``normalization_type="no_norm"``: every "LayerNorm" is ``NoNorm``, an
  elementwise ``x * weight + bias`` (Mul/Add in ONNX);
* ``trigram_input``: word embeddings of width ``embedding_size``, then the
  concat of [next token's embedding, this one, previous token's] (F.pad
  shifts, zero at the ends: Slice/Pad/Concat), then
  ``embedding_transformation`` Linear(3 * embedding_size, hidden_size),
  + position + token type;
* ``use_bottleneck`` with ``key_query_shared_bottleneck``: each layer maps
  hidden -> ``intra_bottleneck_size`` twice (``bottleneck.input`` for the
  residual, ``bottleneck.attention`` shared by query and key); value reads
  the full hidden state; attention, its output and the FFNs run at the
  bottleneck width; ``output.bottleneck`` maps back to hidden;
* ``num_feedforward_networks=4``: three ``ffn.N`` blocks and the layer's own
  intermediate/output;
* ``hidden_act="relu"``; the pooler returns the first token unless
  ``classifier_activation`` (dense + tanh).

Dropout is omitted (identity in eval mode).
"""

import math
from dataclasses import dataclass

import torch
from torch import nn

from bert_mirror import ACTIVATIONS, HfConfig

INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]
OUTPUT_NAMES = ["last_hidden_state", "pooler_output"]
INPUT_SPECIALS = {}  # a BERT vocabulary: [CLS] stand-in 1, [PAD] 0
# make_fixture sizes when not given (HF: hidden 512, embedding 128, ...).
DEFAULTS = {"hidden": 128, "heads": 4, "ffn": 128, "embedding_size": 64,
            "bottleneck": 32}
ACT2FN = dict(ACTIVATIONS, relu=torch.relu)


@dataclass
class MobileBertConfig(HfConfig):
    """The subset of HF ``MobileBertConfig`` that affects inference (HF's
    defaults, except the sizes, which are small)."""

    vocab_size: int = 1000
    hidden_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    intermediate_size: int = 128
    hidden_act: str = "relu"
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    embedding_size: int = 64
    trigram_input: bool = True
    use_bottleneck: bool = True
    intra_bottleneck_size: int = 32
    use_bottleneck_attention: bool = False
    key_query_shared_bottleneck: bool = True
    num_feedforward_networks: int = 4
    normalization_type: str = "no_norm"
    # HF's class default; google/mobilebert-uncased's config.json says false.
    classifier_activation: bool = True

    @property
    def true_hidden_size(self):
        return (self.intra_bottleneck_size if self.use_bottleneck
                else self.hidden_size)

    absolute_positions_only = False  # HF checks nothing for MobileBERT


class NoNorm(nn.Module):
    def __init__(self, feat_size, eps=None):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(feat_size))
        self.weight = nn.Parameter(torch.ones(feat_size))

    def forward(self, input_tensor):
        return input_tensor * self.weight + self.bias


def make_norm(cfg, size, eps=None):
    """HF ``NORM2FN[normalization_type](size[, eps])``: where HF passes no
    eps (embeddings, MobileBertOutput) a LayerNorm keeps torch's 1e-5."""
    if cfg.normalization_type == "no_norm":
        return NoNorm(size)
    return nn.LayerNorm(size) if eps is None else nn.LayerNorm(size, eps=eps)


class MobileBertEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.trigram_input = cfg.trigram_input
        self.embedding_size = cfg.embedding_size
        self.hidden_size = cfg.hidden_size
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.embedding_size,
                                            padding_idx=cfg.pad_token_id)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings,
                                                cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size,
                                                  cfg.hidden_size)
        width = cfg.embedding_size * (3 if cfg.trigram_input else 1)
        self.embedding_transformation = nn.Linear(width, cfg.hidden_size)
        self.LayerNorm = make_norm(cfg, cfg.hidden_size)
        self.register_buffer(
            "position_ids",
            torch.arange(cfg.max_position_embeddings).expand((1, -1)),
            persistent=False)

    def forward(self, input_ids, token_type_ids):
        seq_length = input_ids.size()[1]
        position_ids = self.position_ids[:, :seq_length]
        inputs_embeds = self.word_embeddings(input_ids)
        if self.trigram_input:
            pad = nn.functional.pad
            inputs_embeds = torch.cat([
                pad(inputs_embeds[:, 1:], [0, 0, 0, 1, 0, 0], value=0.0),
                inputs_embeds,
                pad(inputs_embeds[:, :-1], [0, 0, 1, 0, 0, 0], value=0.0),
            ], dim=2)
        if self.trigram_input or self.embedding_size != self.hidden_size:
            inputs_embeds = self.embedding_transformation(inputs_embeds)
        embeddings = (inputs_embeds + self.position_embeddings(position_ids)
                      + self.token_type_embeddings(token_type_ids))
        return self.LayerNorm(embeddings)


class MobileBertSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg.true_hidden_size % cfg.num_attention_heads:
            raise ValueError("the attention width (intra_bottleneck_size) "
                             "must be a multiple of the heads")
        self.num_attention_heads = cfg.num_attention_heads
        self.attention_head_size = (cfg.true_hidden_size
                                    // cfg.num_attention_heads)
        self.all_head_size = cfg.true_hidden_size
        self.query = nn.Linear(cfg.true_hidden_size, self.all_head_size)
        self.key = nn.Linear(cfg.true_hidden_size, self.all_head_size)
        self.value = nn.Linear(cfg.true_hidden_size
                               if cfg.use_bottleneck_attention
                               else cfg.hidden_size, self.all_head_size)

    def transpose_for_scores(self, x):
        new_x_shape = x.size()[:-1] + (self.num_attention_heads,
                                       self.attention_head_size)
        return x.view(new_x_shape).permute(0, 2, 1, 3)

    def forward(self, query_tensor, key_tensor, value_tensor, attention_mask):
        query_layer = self.transpose_for_scores(self.query(query_tensor))
        key_layer = self.transpose_for_scores(self.key(key_tensor))
        value_layer = self.transpose_for_scores(self.value(value_tensor))

        scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
        scores = scores / math.sqrt(self.attention_head_size)
        scores = scores + attention_mask
        probs = nn.functional.softmax(scores, dim=-1)

        context = torch.matmul(probs, value_layer)
        context = context.permute(0, 2, 1, 3).contiguous()
        return context.view(context.size()[:-2] + (self.all_head_size,))


class MobileBertSelfOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.true_hidden_size, cfg.true_hidden_size)
        self.LayerNorm = make_norm(cfg, cfg.true_hidden_size,
                                   cfg.layer_norm_eps)

    def forward(self, hidden_states, residual_tensor):
        return self.LayerNorm(self.dense(hidden_states) + residual_tensor)


class MobileBertAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self = MobileBertSelfAttention(cfg)
        self.output = MobileBertSelfOutput(cfg)

    def forward(self, query_tensor, key_tensor, value_tensor, layer_input,
                attention_mask):
        return self.output(self.self(query_tensor, key_tensor, value_tensor,
                                     attention_mask), layer_input)


class MobileBertIntermediate(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.true_hidden_size, cfg.intermediate_size)
        self.intermediate_act_fn = ACT2FN[cfg.hidden_act]

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class OutputBottleneck(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.true_hidden_size, cfg.hidden_size)
        self.LayerNorm = make_norm(cfg, cfg.hidden_size, cfg.layer_norm_eps)

    def forward(self, hidden_states, residual_tensor):
        return self.LayerNorm(self.dense(hidden_states) + residual_tensor)


class MobileBertOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.use_bottleneck = cfg.use_bottleneck
        self.dense = nn.Linear(cfg.intermediate_size, cfg.true_hidden_size)
        self.LayerNorm = make_norm(cfg, cfg.true_hidden_size)
        if self.use_bottleneck:
            self.bottleneck = OutputBottleneck(cfg)

    def forward(self, intermediate_states, residual_tensor_1,
                residual_tensor_2):
        layer_output = self.LayerNorm(self.dense(intermediate_states)
                                      + residual_tensor_1)
        if self.use_bottleneck:
            layer_output = self.bottleneck(layer_output, residual_tensor_2)
        return layer_output


class BottleneckLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intra_bottleneck_size)
        self.LayerNorm = make_norm(cfg, cfg.intra_bottleneck_size,
                                   cfg.layer_norm_eps)

    def forward(self, hidden_states):
        return self.LayerNorm(self.dense(hidden_states))


class Bottleneck(nn.Module):
    """-> (query, key, value, layer_input) tensors for the attention."""

    def __init__(self, cfg):
        super().__init__()
        self.key_query_shared_bottleneck = cfg.key_query_shared_bottleneck
        self.use_bottleneck_attention = cfg.use_bottleneck_attention
        self.input = BottleneckLayer(cfg)
        if self.key_query_shared_bottleneck:
            self.attention = BottleneckLayer(cfg)

    def forward(self, hidden_states):
        bottlenecked = self.input(hidden_states)
        if self.use_bottleneck_attention:
            return (bottlenecked,) * 4
        if self.key_query_shared_bottleneck:
            shared = self.attention(hidden_states)
            return shared, shared, hidden_states, bottlenecked
        return hidden_states, hidden_states, hidden_states, bottlenecked


class FFNOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.intermediate_size, cfg.true_hidden_size)
        self.LayerNorm = make_norm(cfg, cfg.true_hidden_size,
                                   cfg.layer_norm_eps)

    def forward(self, hidden_states, residual_tensor):
        return self.LayerNorm(self.dense(hidden_states) + residual_tensor)


class FFNLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.intermediate = MobileBertIntermediate(cfg)
        self.output = FFNOutput(cfg)

    def forward(self, hidden_states):
        return self.output(self.intermediate(hidden_states), hidden_states)


class MobileBertLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.use_bottleneck = cfg.use_bottleneck
        self.attention = MobileBertAttention(cfg)
        self.intermediate = MobileBertIntermediate(cfg)
        self.output = MobileBertOutput(cfg)
        if self.use_bottleneck:
            self.bottleneck = Bottleneck(cfg)
        if cfg.num_feedforward_networks > 1:
            self.ffn = nn.ModuleList(
                [FFNLayer(cfg)
                 for _ in range(cfg.num_feedforward_networks - 1)])

    def forward(self, hidden_states, attention_mask):
        if self.use_bottleneck:
            query, key, value, layer_input = self.bottleneck(hidden_states)
        else:
            query = key = value = layer_input = hidden_states
        attention_output = self.attention(query, key, value, layer_input,
                                          attention_mask)
        for ffn_module in getattr(self, "ffn", []):
            attention_output = ffn_module(attention_output)
        return self.output(self.intermediate(attention_output),
                           attention_output, hidden_states)


class MobileBertEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList(
            [MobileBertLayer(cfg) for _ in range(cfg.num_hidden_layers)])

    def forward(self, hidden_states, attention_mask):
        for layer_module in self.layer:
            hidden_states = layer_module(hidden_states, attention_mask)
        return hidden_states


class MobileBertPooler(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.do_activate = cfg.classifier_activation
        if self.do_activate:
            self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, hidden_states):
        first_token_tensor = hidden_states[:, 0]
        if not self.do_activate:
            return first_token_tensor
        return torch.tanh(self.dense(first_token_tensor))


class MobileBertModel(nn.Module):
    """forward(input_ids, attention_mask, token_type_ids)
    -> (last_hidden_state [B,S,H], pooler_output [B,H])."""

    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.embeddings = MobileBertEmbeddings(cfg)
        self.encoder = MobileBertEncoder(cfg)
        self.pooler = MobileBertPooler(cfg)

    def forward(self, input_ids, attention_mask, token_type_ids):
        # HF get_extended_attention_mask, with the -10000 of bert_mirror.
        ext_mask = attention_mask[:, None, None, :].to(dtype=torch.float32)
        ext_mask = (1.0 - ext_mask) * -10000.0
        embedding_output = self.embeddings(input_ids, token_type_ids)
        sequence_output = self.encoder(embedding_output, ext_mask)
        return sequence_output, self.pooler(sequence_output)


def build(args):
    """The make_fixture model: HF's structure (no_norm, trigram input,
    shared key/query bottleneck, 4 FFNs, relu) at the requested sizes, with
    google/mobilebert-uncased's pooler (classifier_activation false)."""
    cfg = MobileBertConfig(vocab_size=args.vocab, hidden_size=args.hidden,
                           num_hidden_layers=args.layers,
                           num_attention_heads=args.heads,
                           intermediate_size=args.ffn,
                           max_position_embeddings=args.max_pos,
                           embedding_size=args.embedding_size,
                           intra_bottleneck_size=args.bottleneck,
                           classifier_activation=False)
    return MobileBertModel(cfg)
