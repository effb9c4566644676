"""Tests of medlab.io: readers, their errors on bad input, HU, windows, de-identification."""

from __future__ import annotations

import io as bytes_io

import numpy as np
import pytest

from medlab import io
from medlab.teach import check

CT = io.testdata_path("CT_small.dcm")
ANAT = io.testdata_path("nibabel:anatomical.nii")
EX4D = io.testdata_path("nibabel:example4d.nii.gz")


def test_read_dicom_ct_header_and_hu():
    ds = io.read_dicom(CT)
    info = io.dicom_summary(ds)
    assert info["modality"] == "CT"
    assert info["pixel spacing (mm)"] == pytest.approx((0.661468, 0.661468))
    assert info["slice thickness (mm)"] == 5.0
    hu = io.to_hounsfield(ds)
    assert hu.dtype == np.float32
    assert (hu.min(), hu.max()) == (-896.0, 1167.0)
    np.testing.assert_array_equal(hu, ds.pixel_array.astype(np.float32) - 1024)


def test_read_dicom_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        io.read_dicom(tmp_path / "nope.dcm")


def test_read_dicom_not_dicom(tmp_path):
    path = tmp_path / "table.dcm"
    path.write_text("patient,age\nA,42\n")
    with pytest.raises(io.MedicalFileError, match="table.dcm: not a DICOM file") as info:
        io.read_dicom(path)
    assert info.value.path == str(path)
    with pytest.raises(io.MedicalFileError, match="not a DICOM file"):
        io.read_dicom(ANAT)  # a NIfTI file passed as DICOM


def test_read_dicom_truncated_pixel_data(tmp_path):
    with pytest.raises(io.MedicalFileError, match="MR_truncated.dcm: truncated DICOM.*8130"):
        io.read_dicom(io.testdata_path("MR_truncated.dcm"))
    cut = tmp_path / "ct_cut.dcm"
    cut.write_bytes(open(CT, "rb").read()[:20000])
    with pytest.raises(io.MedicalFileError, match="ct_cut.dcm: truncated DICOM"):
        io.read_dicom(cut)
    ds = io.read_dicom(cut, pixels=False)  # the header alone is still readable
    assert ds.Modality == "CT"


def test_read_dicom_truncated_header(tmp_path):
    cut = tmp_path / "ct_head.dcm"
    cut.write_bytes(open(CT, "rb").read()[:1500])
    with pytest.raises(io.MedicalFileError, match="ct_head.dcm: no pixel data"):
        io.read_dicom(cut)


def test_read_dicom_directory(tmp_path):
    with pytest.raises(io.MedicalFileError, match="is a directory"):
        io.read_dicom(tmp_path)


def test_multiframe():
    ds = io.read_dicom(io.testdata_path("emri_small.dcm"))
    assert ds.pixel_array.shape == (10, 64, 64)
    assert io.dicom_summary(ds)["frames"] == 10


def test_to_hounsfield_rejects_mr_and_missing_rescale():
    mr = io.read_dicom(io.testdata_path("MR_small.dcm"))
    with pytest.raises(io.MedicalFileError, match="MR_small.dcm: .*CT only.*'MR'"):
        io.to_hounsfield(mr)
    ct = io.read_dicom(CT)
    del ct.RescaleSlope
    with pytest.raises(io.MedicalFileError, match="RescaleSlope"):
        io.to_hounsfield(ct)


def test_window_values_and_errors():
    x = np.array([-1000.0, -160.0, 40.0, 240.0, 1000.0])
    np.testing.assert_allclose(io.window(x, preset="soft tissue"), [0, 0, 0.5, 1, 1])
    np.testing.assert_allclose(io.window(x, 0, 2000), [0, 0.42, 0.52, 0.62, 1], atol=1e-6)
    assert set(io.WINDOWS) >= {"lung", "soft tissue", "bone", "brain"}
    with pytest.raises(ValueError, match="unknown preset 'liver'"):
        io.window(x, preset="liver")
    with pytest.raises(ValueError, match="positive"):
        io.window(x, 0, 0)
    with pytest.raises(ValueError, match="not both"):
        io.window(x, 0, 10, preset="lung")
    with pytest.raises(ValueError, match="center"):
        io.window(x)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "US1_UNCR.dcm",
                                  "RG1_UNCR.dcm"])
def test_deidentify_leaves_no_patient_field(name):
    ds = io.read_dicom(io.testdata_path(name))
    before = io.identifying_elements(ds)
    assert "PatientName" in before
    secrets = [str(ds[k].value).encode() for k in ("PatientName", "PatientID")
               if k in ds and len(str(ds[k].value)) >= 4]
    anon = io.deidentify(ds)
    assert io.identifying_elements(anon) == []
    assert io.identifying_elements(ds) == before  # the input is unchanged
    buf = bytes_io.BytesIO()
    anon.save_as(buf)
    raw = buf.getvalue()
    assert secrets and not any(s in raw for s in secrets)
    assert "InstitutionName" not in anon and "PatientBirthDate" not in anon
    assert anon.PatientIdentityRemoved == "YES"
    assert anon.SOPInstanceUID != ds.SOPInstanceUID
    assert anon.SOPClassUID == ds.SOPClassUID  # registered UIDs stay
    np.testing.assert_array_equal(anon.pixel_array, ds.pixel_array)


def test_deidentify_pseudonym_and_dates():
    ds = io.read_dicom(CT)
    anon = io.deidentify(ds, pseudonym="ANON-0001", keep_dates=True)
    assert str(anon.PatientName) == "ANON-0001" and anon.PatientID == "ANON-0001"
    assert anon.StudyDate == ds.StudyDate
    assert "StudyDate" not in io.deidentify(ds)
    # the same salt links the UIDs of one study across files; another salt does not
    assert io.deidentify(ds).StudyInstanceUID == io.deidentify(ds).StudyInstanceUID
    assert io.deidentify(ds, salt="x").StudyInstanceUID != io.deidentify(ds).StudyInstanceUID


def test_read_nifti_and_summary():
    img = io.read_nifti(ANAT)
    info = io.nifti_summary(img)
    assert info["shape"] == (33, 41, 25)
    assert info["voxel size (mm)"] == (2.0, 2.0, 2.0)
    assert info["orientation"] == "LAS"
    assert io.read_nifti(EX4D, ndim=4).shape == (128, 96, 24, 2)
    assert io.read_nifti(EX4D, ndim=(3, 4)).ndim == 4


def test_read_nifti_wrong_dimensions():
    with pytest.raises(io.MedicalFileError, match=r"example4d.nii.gz: expected a 3-D image, "
                                                  r"got 4-D with shape \(128, 96, 24, 2\)"):
        io.read_nifti(EX4D)
    with pytest.raises(io.MedicalFileError, match="expected a 4-D image, got 3-D"):
        io.read_nifti(ANAT, ndim=4)


def test_read_nifti_bad_files(tmp_path):
    with pytest.raises(io.MedicalFileError, match="CT_small.dcm: not a readable NIfTI"):
        io.read_nifti(CT)
    bad = tmp_path / "broken.nii"
    bad.write_bytes(open(ANAT, "rb").read()[:200])
    with pytest.raises(io.MedicalFileError, match="broken.nii"):
        io.read_nifti(bad).get_fdata()
    with pytest.raises(FileNotFoundError, match="missing.nii"):
        io.read_nifti(tmp_path / "missing.nii")


def test_resample_to_spacing():
    img = io.read_nifti(ANAT)
    out = io.resample_to_spacing(img, (4.0, 4.0, 4.0), order=0)
    assert io.nifti_summary(out)["voxel size (mm)"] == (4.0, 4.0, 4.0)
    assert abs(out.shape[0] - img.shape[0] / 2) <= 1
    with pytest.raises(ValueError, match="positive"):
        io.resample_to_spacing(img, 0)
    with pytest.raises(ValueError, match="3-D"):
        io.resample_to_spacing(io.read_nifti(EX4D, ndim=4), 2.0)


def test_testdata_path_errors():
    with pytest.raises(FileNotFoundError, match="no_such.dcm"):
        io.testdata_path("no_such.dcm")
    with pytest.raises(FileNotFoundError, match="nope.nii"):
        io.testdata_path("nibabel:nope.nii")


def test_ch02_checks_right_and_wrong():
    assert check("ch02-hu-range", (-896, 1167))
    assert not check("ch02-hu-range", (128, 2191))
    assert not check("ch02-hu-range", (1167, -896))
    assert check("ch02-fov-ml", 33 * 41 * 25 * 8 / 1000)
    assert not check("ch02-fov-ml", 33 * 41 * 25 * 8)
    assert not check("ch02-fov-ml", "a lot")
    assert check("ch02-axcodes", ("L", "A", "S"))
    assert not check("ch02-axcodes", "RAS")
    assert not check("ch02-axcodes", "LA")
