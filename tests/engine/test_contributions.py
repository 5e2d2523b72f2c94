"""What a class is made of: the contribution ranking against a hand computation on the tiny model."""

import torch

from generator.engine import contributions as C
from generator.engine.models import load_model


def test_pooled_layer_is_found_by_probing(tiny, lite0):
    assert C.pooled_layer(tiny) == "block.1"  # the ReLU'd feature map that AdaptiveAvgPool2d reduces: the stage output
    assert C.pooled_layer(lite0) == "_avg_pooling"  # the head's activation has no module of its own
    # layer4 and its last block output the same map: the stage output's name, as [channels] per_stage uses it
    assert C.pooled_layer(load_model("resnet18", weights=None)) == "layer4.1"


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


def test_the_rendered_layer_is_the_pooled_one_or_its_uncapped_input(tiny, lite0):
    assert C.head_layers(tiny) == ("block.1", "block.1")
    assert C.head_layers(load_model("resnet18", weights=None)) == ("layer4.1", "layer4.1")
    # lite0 pools ReLU6 (capped at 6) of its head: the channels are rendered before it, where nothing caps them
    assert C.head_layers(lite0) == ("_avg_pooling", "_bn1") and C.render_layer(lite0) == "_bn1"
    gen = torch.Generator().manual_seed(3)
    images = torch.rand(4, 3, 224, 224, generator=gen)
    pooled, _ = C.pooled_features(lite0, "_avg_pooling", images)
    acts = {}
    handle = lite0.net._bn1.register_forward_hook(lambda _m, _i, out: acts.__setitem__("a", out))
    try:
        lite0(images)
    finally:
        handle.remove()
    assert torch.allclose(acts["a"].clamp(0, 6).mean(dim=(2, 3)), pooled, atol=1e-5)  # channel k, after ReLU6


def test_classifier_drive_covers_the_pooled_layer(tiny, lite0):
    assert C.classifier_drive(lite0, "_avg_pooling", [12])["12"][0][1] == round(float(lite0.net._fc.weight[:, 12].max()), 4)
    assert C.classifier_drive(lite0, "_bn1", [12]) == C.classifier_drive(lite0, "_avg_pooling", [12])
    assert C.classifier_drive(lite0, "_blocks.15", [12]) is None  # 320 channels, a conv away from the classifier
    assert list(C.classifier_drive(tiny, "block.1", [0, 3])) == ["0", "3"]
