import pytest

from generator.errors import AtlasError
from generator.engine.targets import ChannelTarget, ClassTarget, check_channel, imagenet_classes, parse_target


def test_class_data_is_complete():
    classes = imagenet_classes()
    assert [c["index"] for c in classes] == list(range(1000))
    assert len({c["wnid"] for c in classes}) == 1000
    assert classes[8]["label"] == "hen" and classes[8]["wnid"] == "n01514859"


@pytest.mark.parametrize("text", ["8", "hen", "HEN", "n01514859"])
def test_class_by_index_label_or_wnid(text):
    assert parse_target(text) == ClassTarget(8, "hen", "n01514859")


def test_synonym_names_a_single_class():
    assert parse_target("Tinca tinca").index == 0


def test_ambiguous_label_lists_candidates():
    with pytest.raises(AtlasError) as err:
        parse_target("crane")
    message = str(err.value)
    assert "ambiguous" in message and "134" in message and "517" in message
    assert "\n" not in message


def test_unknown_label_suggests_close_matches():
    with pytest.raises(AtlasError, match=r"unknown class 'goldfsh'; did you mean .*'goldfish'"):
        parse_target("goldfsh")


@pytest.mark.parametrize("text, message", [("1000", "out of range"), ("n00000000", "unknown WordNet id"), ("", "empty")])
def test_bad_class_targets(text, message):
    with pytest.raises(AtlasError, match=message):
        parse_target(text)


def test_channel_targets_parse_and_check():
    t = parse_target("layer4.1:37")
    assert t == ChannelTarget("layer4.1", 37) and t.id == "channel-layer4.1-37"
    layers = {"layer4.0": 512, "layer4.1": 512}
    check_channel(t, layers, "resnet18")
    with pytest.raises(AtlasError, match=r"channel 512 out of range for resnet18 layer4.1 \(0..511\)"):
        check_channel(ChannelTarget("layer4.1", 512), layers, "resnet18")
    with pytest.raises(AtlasError, match=r"unknown layer 'layer4.2'.*did you mean layer4.1.*atlas layers resnet18"):
        check_channel(ChannelTarget("layer4.2", 1), layers, "resnet18")
