"""Skip gradients: the residual branches pass back a share of their gradient; values, other threads and the job keys
of recipes without it stay as they were."""

import threading

import pytest
import torch
import torchvision

from generator.engine.models import load_lite
from generator.engine.recipe import stage_recipe
from generator.engine.skip_gradient import residual_branch_ends, skip_gradients
from generator.errors import AtlasError


def resnet():
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None).eval()


def logit_and_grad(net, x, gamma):
    x = x.clone().requires_grad_(True)
    with skip_gradients(residual_branch_ends(net), gamma):
        out = net(x)
    out[:, 3].sum().backward()
    return out.detach(), x.grad


def test_the_branches_of_resnet_and_lite_blocks_are_found():
    assert len(residual_branch_ends(resnet())) == 8  # ResNet18: 8 basic blocks
    lite = load_lite("efficientnet_lite0", pretrained=False).net
    assert len(residual_branch_ends(lite)) == 9  # the blocks with a skip: stride 1, equal channels
    assert residual_branch_ends(torch.nn.Sequential(torch.nn.Conv2d(3, 3, 1))) == []


def test_values_stay_the_gradient_changes_and_gamma_1_is_the_model_own():
    net, x = resnet(), torch.rand(2, 3, 32, 32)
    own_out, own_grad = logit_and_grad(net, x, 1.0)
    out, grad = logit_and_grad(net, x, 0.5)
    assert torch.allclose(out, own_out, atol=1e-5)
    cosine = torch.nn.functional.cosine_similarity(grad.flatten(), own_grad.flatten(), dim=0)
    assert float(cosine) < 0.99  # another direction, not only another length
    _, again_grad = logit_and_grad(net, x, 1.0)  # the hooks are gone once the block ends
    assert torch.equal(again_grad, own_grad)


def test_another_thread_passes_are_untouched():
    net, x = resnet(), torch.rand(1, 3, 32, 32)
    _, own_grad = logit_and_grad(net, x, 1.0)
    seen = {}
    with skip_gradients(residual_branch_ends(net), 0.5):  # open on this thread while another thread renders
        worker = threading.Thread(target=lambda: seen.update(grad=logit_and_grad(net, x, 1.0)[1]))
        worker.start()
        worker.join()
    assert torch.allclose(seen["grad"], own_grad, atol=1e-6)


def test_residual_grad_is_left_out_of_job_keys_at_1_and_must_be_in_0_1():
    full = stage_recipe("full")
    assert "residual_grad" not in stage_recipe("naive").key_knobs()
    assert full.with_(residual_grad=0.7).key_knobs() != full.with_(residual_grad=1.0).key_knobs()
    for bad in (0.0, 1.5):
        with pytest.raises(AtlasError, match="residual_grad must be in"):
            full.with_(residual_grad=bad)
