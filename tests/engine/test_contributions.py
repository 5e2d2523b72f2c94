"""What a class is made of: the contribution ranking against a hand computation on the tiny model."""

import torch

from generator.engine import contributions as C


def test_pooled_layer_is_found_by_probing(tiny, lite0):
    assert C.pooled_layer(tiny) == "block"  # the ReLU'd feature map that AdaptiveAvgPool2d reduces
    assert C.pooled_layer(lite0) == "_avg_pooling"  # the head's activation has no module of its own


def test_ranking_matches_a_hand_computation(tiny):
    gen = torch.Generator().manual_seed(7)
    images = torch.rand(3, 3, 32, 32, generator=gen)
    classes = [8, 1, 999]
    got = C.measure(tiny, images, classes, k=3)
    # by hand: the block's output, averaged per channel, times the fc weights of the class
    with torch.no_grad():
        h = tiny.net.block(tiny.net.stem(tiny.normalize(images)))
        pooled = h.mean(dim=(2, 3))
        logits = tiny.net.fc(pooled)
    for i, c in enumerate(classes):
        parts = tiny.net.fc.weight[c] * pooled[i]
        order = sorted(range(16), key=lambda k: -float(parts[k]))[:3]
        assert [x.channel for x in got[i]] == order
        for x in got[i]:
            assert abs(x.value - float(parts[x.channel])) < 1e-3
            assert abs(x.share - float(parts[x.channel] / logits[i, c])) < 1e-3
        # the parts add up to the logit (minus the bias): the decomposition is exact
        assert abs(float(parts.sum() + tiny.net.fc.bias[c] - logits[i, c])) < 1e-4


def test_weight_view_is_the_largest_weights(tiny):
    w = tiny.net.fc.weight
    got = C.weight_ranking(w, 8, 2)
    assert [c for c, _ in got] == w[8].argsort(descending=True)[:2].tolist()
