"""EC2 rules the embedded emulator (moto) lacks, added to it wherever it runs.

The sandbox's emulator runs as ``python -m mocha_ansible.emulator_ec2`` (emulator.start_emulator),
and the tests' fault-injecting double (tests/doubles/faulty_emulator.py) calls ``install()``:
so the sandbox, the tests and the role meet the same rules. This is test-double behaviour,
and each rule does only what EC2 does, citing where that is stated:

- RegisterImage keeps the root device's block device mapping (the snapshot the root volume is
  made from, and its size) and the architecture it is given (EC2 API reference, RegisterImage:
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RegisterImage.html). moto 5.2
  reads only Name and Description (moto/ec2/responses/amis.py, register_image).
- DescribeImages reports the size of each image's own root snapshot. moto reports 15 GiB for
  every image (moto/ec2/models/amis.py, Ami.block_device_mappings), whatever its snapshot.
- RunInstances refuses a volume smaller than the snapshot it is made from: HTTP 400,
  InvalidBlockDeviceMapping, "Volume of size 64GB is smaller than  snapshot 'snap-...', expect
  size >= 75GB" (the text, its double space included, as users report it: scylladb/scylladb#6999,
  openshift/origin-ci-tool#153, AviatrixSystems/terraform-modules#105; status 400:
  NVIDIA/ngc-examples#3). moto accepts any size.
- RunInstances from a launch template whose InstanceMarketOptions say spot, with none in the
  request, makes a spot instance (InstanceLifecycle "spot"): EC2 takes the options from the
  template (API reference, RunInstances and RequestLaunchTemplateData.InstanceMarketOptions).
  moto reads them from the request alone (moto/ec2/models/instances.py, add_instances), so a
  template-launched spot instance looked on-demand.
- StopInstances refuses a spot instance of a one-time request: UnsupportedOperation, "You can't
  stop the Spot Instance '<id>' because it is associated with a one-time Spot Instance request.
  You can only stop Spot Instances associated with persistent Spot Instance requests." (EC2 User
  Guide, "Stop a Spot Instance"; the reply as seen in gitlab-org/gitlab-runner#28865). Every spot
  instance this project launches is one-time (ec2_gpu's spot.yml); moto stops any instance.
"""

from __future__ import annotations

import sys
from typing import Any

_INSTALLED: list[bool] = []


def _root_size(image: Any) -> int:
    """The size (GiB) of the snapshot the image's root volume is made from."""
    return int(getattr(image, "mocha_root_gib", 0) or image.ebs_snapshot.volume.size)


def refusal(mapping: dict[str, Any], image: Any, backend: Any) -> str | None:
    """EC2's message for a block device mapping smaller than its snapshot, or None when it fits."""
    ebs = mapping.get("Ebs") or {}
    if ebs.get("VolumeSize") in (None, ""):
        return None  # no size given: EC2 makes the volume the snapshot's size
    if ebs.get("SnapshotId"):
        snapshot = backend.get_snapshot(ebs["SnapshotId"])
        needed = int(snapshot.volume.size)
    elif image is not None and mapping.get("DeviceName") == image.root_device_name:
        snapshot, needed = image.ebs_snapshot, _root_size(image)
    else:
        return None  # a new, empty volume: no snapshot to fit
    size = int(ebs["VolumeSize"])
    if size >= needed:
        return None
    return f"Volume of size {size}GB is smaller than  snapshot '{snapshot.id}', expect size >= {needed}GB"


def template_market(response: Any) -> None:
    """A RunInstances request takes its launch template's spot market options when it names none."""
    template = response._get_param("LaunchTemplate")
    if response._get_param("InstanceMarketOptions.MarketType") or not template:
        return
    data = response.ec2_backend._get_template_from_args(template).data
    if (data.get("InstanceMarketOptions") or {}).get("MarketType") == "spot":
        response.params["InstanceMarketOptions"] = {"MarketType": "spot"}


def spot_stop_refusal(response: Any) -> str | None:
    """EC2's message for a StopInstances that names a one-time spot instance, or None."""
    for instance in response.ec2_backend.get_multi_instances_by_id(response._get_param("InstanceIds", [])):
        if instance.lifecycle == "spot":
            return (
                f"You can't stop the Spot Instance '{instance.id}' because it is associated with a one-time"
                " Spot Instance request. You can only stop Spot Instances associated with persistent Spot"
                " Instance requests."
            )
    return None


def install() -> None:
    """Add the rules to this process's moto (once); the server started afterwards serves them."""
    if _INSTALLED:
        return
    from moto.core.exceptions import ServiceException
    from moto.ec2.models import amis as ami_models
    from moto.ec2.responses import amis as ami_responses
    from moto.ec2.responses import instances as instance_responses

    class InvalidBlockDeviceMapping(ServiceException):
        code = "InvalidBlockDeviceMapping"

    class UnsupportedOperation(ServiceException):
        code = "UnsupportedOperation"

    # Patched in place, so typed loosely: the server dispatches to these classes' attributes.
    Ami: Any = ami_models.Ami
    AmisResponse: Any = ami_responses.AmisResponse
    InstanceResponse: Any = instance_responses.InstanceResponse
    moto_mappings = Ami.block_device_mappings.fget
    moto_register = AmisResponse.register_image
    moto_run = InstanceResponse.run_instances
    moto_stop = InstanceResponse.stop_instances

    def block_device_mappings(image: Any) -> list[dict[str, Any]]:
        mappings: list[dict[str, Any]] = moto_mappings(image)
        for mapping in mappings:
            if mapping.get("DeviceName") == image.root_device_name:
                mapping["Ebs"].update(SnapshotId=image.ebs_snapshot.id, VolumeSize=_root_size(image))
        return mappings

    def register_image(response: Any) -> Any:
        result = moto_register(response)
        image = response.ec2_backend.describe_images(ami_ids=[result.result["ImageId"]])[0]
        image.root_device_name = response._get_param("RootDeviceName") or image.root_device_name
        image.architecture = response._get_param("Architecture") or image.architecture
        for mapping in response._get_param("BlockDeviceMappings", []) or []:
            ebs = mapping.get("Ebs") or {}
            if mapping.get("DeviceName") == image.root_device_name and ebs.get("SnapshotId"):
                image.ebs_snapshot = response.ec2_backend.get_snapshot(ebs["SnapshotId"])
                image.mocha_root_gib = int(ebs.get("VolumeSize") or image.ebs_snapshot.volume.size)
        return result

    def stop_instances(response: Any) -> Any:
        message = spot_stop_refusal(response)
        if message is not None:
            raise UnsupportedOperation(message)
        return moto_stop(response)

    def run_instances(response: Any) -> Any:
        template_market(response)
        if not response._get_param("DryRun"):
            image_id = response._get_param("ImageId")
            images = response.ec2_backend.describe_images(ami_ids=[image_id]) if image_id else []
            for mapping in response._get_param("BlockDeviceMappings", []) or []:
                message = refusal(mapping, images[0] if images else None, response.ec2_backend)
                if message is not None:
                    raise InvalidBlockDeviceMapping(message)
        return moto_run(response)

    Ami.block_device_mappings = property(block_device_mappings)
    AmisResponse.register_image = register_image
    InstanceResponse.run_instances = run_instances
    InstanceResponse.stop_instances = stop_instances
    _INSTALLED.append(True)


def main(argv: list[str]) -> None:
    """moto's own server (same arguments), with the rules added."""
    from moto.server import main as moto_main

    install()
    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
