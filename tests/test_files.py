"""Tests of medlab.files: readers, series, their errors on bad input, HU, windows, de-identification."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from medlab import files
from medlab.teach import check

SALT = "a-secret-of-16+chars"
CT = files.testdata_path("CT_small.dcm")
ANAT = files.testdata_path("nibabel:anatomical.nii")
EX4D = files.testdata_path("nibabel:example4d.nii.gz")


def test_read_dicom_ct_header_and_hu():
    ds = files.read_dicom(CT)
    info = files.dicom_summary(ds)
    assert info["modality"] == "CT"
    assert info["pixel spacing (mm)"] == pytest.approx((0.661468, 0.661468))
    assert info["slice thickness (mm)"] == 5.0
    hu = files.to_hounsfield(ds)
    assert hu.dtype == np.float32
    assert (hu.min(), hu.max()) == (-896.0, 1167.0)
    np.testing.assert_array_equal(hu, ds.pixel_array.astype(np.float32) - 1024)


def test_read_dicom_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        files.read_dicom(tmp_path / "nope.dcm")


def test_read_dicom_not_dicom(tmp_path):
    path = tmp_path / "table.dcm"
    path.write_text("patient,age\nA,42\n")
    with pytest.raises(files.MedicalFileError, match="table.dcm: not a DICOM file") as info:
        files.read_dicom(path)
    assert info.value.path == str(path)
    with pytest.raises(files.MedicalFileError, match="not a DICOM file"):
        files.read_dicom(ANAT)  # a NIfTI file passed as DICOM


def test_read_dicom_truncated_pixel_data(tmp_path):
    with pytest.raises(files.MedicalFileError, match="MR_truncated.dcm: truncated DICOM.*8130"):
        files.read_dicom(files.testdata_path("MR_truncated.dcm"))
    cut = tmp_path / "ct_cut.dcm"
    cut.write_bytes(open(CT, "rb").read()[:20000])
    with pytest.raises(files.MedicalFileError, match="ct_cut.dcm: truncated DICOM"):
        files.read_dicom(cut)
    ds = files.read_dicom(cut, pixels=False)  # the header alone is still readable
    assert ds.Modality == "CT"


def test_read_dicom_truncated_header(tmp_path):
    cut = tmp_path / "ct_head.dcm"
    cut.write_bytes(open(CT, "rb").read()[:1500])
    with pytest.raises(files.MedicalFileError, match="ct_head.dcm: no pixel data"):
        files.read_dicom(cut)


def test_read_dicom_directory(tmp_path):
    with pytest.raises(files.MedicalFileError, match="is a directory"):
        files.read_dicom(tmp_path)


def test_multiframe():
    ds = files.read_dicom(files.testdata_path("emri_small.dcm"))
    assert ds.pixel_array.shape == (10, 64, 64)
    assert files.dicom_summary(ds)["frames"] == 10


def test_to_hounsfield_rejects_mr_and_missing_rescale():
    mr = files.read_dicom(files.testdata_path("MR_small.dcm"))
    with pytest.raises(files.MedicalFileError, match="MR_small.dcm: .*CT only.*'MR'"):
        files.to_hounsfield(mr)
    ct = files.read_dicom(CT)
    del ct.RescaleSlope
    with pytest.raises(files.MedicalFileError, match="RescaleSlope"):
        files.to_hounsfield(ct)


def test_window_values_and_errors():
    x = np.array([-1000.0, -160.0, 40.0, 240.0, 1000.0])
    np.testing.assert_allclose(files.window(x, preset="soft tissue"), [0, 0, 0.5, 1, 1])
    np.testing.assert_allclose(files.window(x, 0, 2000), [0, 0.42, 0.52, 0.62, 1], atol=1e-6)
    assert set(files.WINDOWS) >= {"lung", "soft tissue", "bone", "brain"}
    with pytest.raises(ValueError, match="unknown preset 'liver'"):
        files.window(x, preset="liver")
    with pytest.raises(ValueError, match="positive"):
        files.window(x, 0, 0)
    with pytest.raises(ValueError, match="not both"):
        files.window(x, 0, 10, preset="lung")
    with pytest.raises(ValueError, match="center"):
        files.window(x)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "US1_UNCR.dcm",
                                  "RG1_UNCR.dcm"])
def test_deidentify_leaves_no_patient_field(name):
    ds = files.read_dicom(files.testdata_path(name))
    before = files.identifying_elements(ds)
    assert "PatientName" in before
    secrets = [str(ds[k].value).encode() for k in ("PatientName", "PatientID")
               if k in ds and len(str(ds[k].value)) >= 4]
    anon = files.deidentify(ds, salt=SALT)
    assert files.identifying_elements(anon) == []
    assert files.identifying_elements(ds) == before  # the input is unchanged
    buf = io.BytesIO()
    anon.save_as(buf)
    raw = buf.getvalue()
    assert secrets and not any(s in raw for s in secrets)
    assert "InstitutionName" not in anon
    assert anon.get("PatientBirthDate", "") == ""
    assert anon.PatientIdentityRemoved == "YES"
    assert anon.SOPInstanceUID != ds.SOPInstanceUID
    assert anon.SOPClassUID == ds.SOPClassUID  # registered UIDs stay
    np.testing.assert_array_equal(anon.pixel_array, ds.pixel_array)


def test_deidentify_pseudonym_dates_and_type2():
    ds = files.read_dicom(CT)
    anon = files.deidentify(ds, salt=SALT, pseudonym="ANON-0001", keep_dates=True)
    assert str(anon.PatientName) == "ANON-0001" and anon.PatientID == "ANON-0001"
    assert anon.StudyDate == ds.StudyDate
    plain = files.deidentify(ds, salt=SALT)
    # Type 2 elements are emptied (PS3.15 action Z), not removed
    for keyword in ("StudyDate", "StudyTime", "PatientBirthDate", "PatientSex", "StudyID",
                    "AccessionNumber", "ReferringPhysicianName"):
        if keyword in ds:
            assert keyword in plain and plain[keyword].value in ("", None), keyword
    assert "ContentDate" not in plain and "InstitutionName" not in plain  # others removed
    # the same salt links the UIDs of one study across files; another salt does not
    assert plain.StudyInstanceUID == files.deidentify(ds, salt=SALT).StudyInstanceUID
    other = files.deidentify(ds, salt="another-secret-salt-xyz")
    assert other.StudyInstanceUID != plain.StudyInstanceUID


#: A scrub by a hand-made keyword list (plus person names, dates and private elements):
#: chapter 2's example of a scrub that an audit by the standard's list must catch.
LIST_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge",
                 "PatientWeight", "PatientSize", "OtherPatientIDs", "OtherPatientIDsSequence",
                 "InstitutionName", "InstitutionalDepartmentName", "StationName",
                 "DeviceSerialNumber", "AccessionNumber", "StudyID", "ContrastBolusAgent")


def _scrub_by_list(ds, keywords=LIST_KEYWORDS):
    import copy

    out = copy.deepcopy(ds)
    out.remove_private_tags()

    def scrub(dataset, elem):
        if elem.keyword in keywords or elem.VR in ("PN", "DA", "DT", "TM"):
            del dataset[elem.tag]

    out.walk(scrub)
    return out


def test_audit_lists_are_the_standards_and_independent_of_the_scrub():
    from pydicom.datadict import repeater_has_keyword, tag_for_keyword

    for keyword in files.PS3_15_BASIC_PROFILE + files.KEEP_KEYWORDS + files.EMPTIED_KEYWORDS:
        # OverlayData and OverlayComments name a repeating group (60XX): no single tag
        assert tag_for_keyword(keyword) is not None or repeater_has_keyword(keyword), keyword
    # the scrub keeps nothing the standard's list names (emptied Type 2 elements aside)
    assert not set(files.KEEP_KEYWORDS) & set(files.PS3_15_BASIC_PROFILE)
    assert set(files.EMPTIED_KEYWORDS) <= set(files.PS3_15_BASIC_PROFILE)
    ct = files.read_dicom(CT)
    # a scrub by a keyword list passes its own list but fails the standard's audit
    left = files.identifying_elements(_scrub_by_list(ct))
    assert {"StudyDescription", "ImageComments", "TimezoneOffsetFromUTC"} <= set(left), left
    assert files.identifying_elements(files.deidentify(ct, salt=SALT)) == []



def test_ps3_15_table_e1_1_is_the_whole_table_of_edition_2024b():
    from collections import Counter

    from pydicom.datadict import keyword_for_tag

    table = files.PS3_15_TABLE_E1_1
    assert len(table) == 621 and len({tag for tag, _, _ in table}) == 621
    assert Counter(action for _, _, action in table) == {
        "X": 384, "D": 92, "U": 54, "Z": 42, "X/D": 22, "X/Z": 11, "X/Z/D": 8, "Z/D": 6,
        "X/Z/U*": 2}
    rows = {tag: (keyword, action) for tag, keyword, action in table}
    for tag, keyword, action in [
            ("(0010,0010)", "PatientName", "Z"), ("(0010,1005)", "PatientBirthName", "X"),
            ("(0008,0050)", "AccessionNumber", "Z"), ("(0020,000D)", "StudyInstanceUID", "U"),
            ("(0008,002A)", "AcquisitionDateTime", "X/Z/D"),
            ("(0018,1000)", "DeviceSerialNumber", "X/Z/D"),
            ("(0008,0080)", "InstitutionName", "X/Z/D"),
            ("(FFFC,FFFC)", "DataSetTrailingPadding", "X"), ("(60XX,3000)", "OverlayData", "X"),
            ("(50XX,XXXX)", "", "X"), ("(GGGG,EEEE)", "", "X")]:
        assert rows[tag] == (keyword, action), (tag, rows[tag])
    for tag, keyword, _ in table:  # every keyword is pydicom's for its tag
        if keyword and "X" not in tag:
            assert keyword_for_tag(int(tag[1:5] + tag[6:10], 16)) == keyword, tag
    audited = {keyword for _, keyword, action in table if keyword and action != "U"}
    assert set(files.PS3_15_BASIC_PROFILE) == audited and len(audited) == 565
    assert {"PatientName", "PatientBirthName", "StudyDescription"} <= audited
    assert "SOPInstanceUID" not in audited


def test_audit_finds_overlays_and_curves_of_any_repeating_group():
    ds = files.read_dicom(CT)
    assert "OverlayComments" not in files.identifying_elements(ds)
    ds.add_new(0x60024000, "LT", "drawn by Dr Who")  # overlay comments, group 6002
    ds.add_new(0x50020030, "SH", "mm")               # a retired curve element, group 5002
    found = files.identifying_elements(ds)
    assert "OverlayComments" in found and "AxisUnits" in found, found  # (50XX,0030)

def test_deidentify_removes_what_no_list_names():
    ds = files.read_dicom(CT)
    ds.SoftwareVersions = "on neither list"
    ds.add_new(0x00291010, "LO", "private: removed too")
    anon = files.deidentify(ds, salt=SALT)
    assert "SoftwareVersions" not in anon and "InstanceCreatorUID" not in anon
    assert anon.KVP == ds.KVP and anon.PixelSpacing == ds.PixelSpacing  # kept
    assert not any(elem.tag.is_private for elem in anon)
    kept = files.deidentify(ds, salt=SALT, keep_dates=True)
    assert "StudyDate" in files.identifying_elements(kept)  # the audit sees kept dates


def test_dicom_summary_spacing_of_radiographs_and_ultrasound():
    us = files.read_dicom(files.testdata_path("OBXXXX1A.dcm"))
    info = files.dicom_summary(us)
    assert info["pixel spacing (mm)"] is None
    assert info["ultrasound regions (mm per pixel)"] == ((0.2623, 0.2623),)
    cr = files.read_dicom(files.testdata_path("RG1_UNCR.dcm"))
    assert files.dicom_summary(cr)["imager pixel spacing (mm)"] is None
    cr.ImagerPixelSpacing = [0.2, 0.2]
    cr.EstimatedRadiographicMagnificationFactor = 1.1
    info = files.dicom_summary(cr)
    assert info["imager pixel spacing (mm)"] == (0.2, 0.2)
    assert info["magnification factor"] == pytest.approx(1.1)


def test_deidentify_needs_a_secret_salt():
    ds = files.read_dicom(CT)
    with pytest.raises(TypeError):
        files.deidentify(ds)  # no public default
    with pytest.raises(ValueError, match="salt.*16 characters"):
        files.deidentify(ds, salt="medlab")


def test_read_nifti_and_summary():
    img = files.read_nifti(ANAT)
    info = files.nifti_summary(img)
    assert info["shape"] == (33, 41, 25)
    assert info["voxel size (mm)"] == (2.0, 2.0, 2.0)
    assert info["orientation"] == "LAS"
    assert files.read_nifti(EX4D, ndim=4).shape == (128, 96, 24, 2)
    assert files.read_nifti(EX4D, ndim=(3, 4)).ndim == 4


def test_read_nifti_wrong_dimensions():
    with pytest.raises(files.MedicalFileError, match=r"example4d.nii.gz: expected a 3-D image, "
                                                  r"got 4-D with shape \(128, 96, 24, 2\)"):
        files.read_nifti(EX4D)
    with pytest.raises(files.MedicalFileError, match="expected a 4-D image, got 3-D"):
        files.read_nifti(ANAT, ndim=4)


def test_read_nifti_bad_files(tmp_path):
    with pytest.raises(files.MedicalFileError, match="CT_small.dcm: not a readable NIfTI"):
        files.read_nifti(CT)
    bad = tmp_path / "broken.nii"
    bad.write_bytes(open(ANAT, "rb").read()[:200])
    with pytest.raises(files.MedicalFileError, match="broken.nii"):
        files.read_nifti(bad).get_fdata()
    with pytest.raises(FileNotFoundError, match="missing.nii"):
        files.read_nifti(tmp_path / "missing.nii")


def test_resample_to_spacing():
    img = files.read_nifti(ANAT)
    out = files.resample_to_spacing(img, (4.0, 4.0, 4.0), order=0)
    assert files.nifti_summary(out)["voxel size (mm)"] == (4.0, 4.0, 4.0)
    assert abs(out.shape[0] - img.shape[0] / 2) <= 1
    with pytest.raises(ValueError, match="positive"):
        files.resample_to_spacing(img, 0)
    with pytest.raises(ValueError, match="3-D"):
        files.resample_to_spacing(files.read_nifti(EX4D, ndim=4), 2.0)


def test_testdata_path_errors():
    with pytest.raises(FileNotFoundError, match="no_such.dcm"):
        files.testdata_path("no_such.dcm")
    with pytest.raises(FileNotFoundError, match="nope.nii"):
        files.testdata_path("nibabel:nope.nii")


def test_ch02_checks_right_and_wrong():
    import pydicom

    slices = sorted((pydicom.dcmread(p) for p in CT2.iterdir()),
                    key=lambda ds: float(ds.ImagePositionPatient[2]))
    assert check("ch02-ct2-affine", files.series_affine(slices[1:]))
    assert not check("ch02-ct2-affine", np.diag([-1, -1, 1, 1]) @ files.series_affine(slices[1:]))
    assert not check("ch02-ct2-affine", np.eye(4))
    assert check("ch02-ct2-missing", 161)
    assert not check("ch02-ct2-missing", 162)
    assert check("ch02-mr700-step", 16.35)
    assert not check("ch02-mr700-step", 81.8)
    mr700 = files.read_dicom(next(iter(sorted(MR700.iterdir()))))
    assert check("ch02-mr700-kind", list(mr700.ImageType))
    assert check("ch02-mr700-kind", "PROJECTION IMAGE")
    assert not check("ch02-mr700-kind", "DERIVED\\SECONDARY")
    rg1 = files.read_dicom(files.testdata_path("RG1_UNCR.dcm"))
    assert check("ch02-rg1-audit", files.identifying_elements(_scrub_by_list(rg1)))
    assert not check("ch02-rg1-audit", files.identifying_elements(files.deidentify(rg1, salt=SALT)))
    assert not check("ch02-rg1-audit", ["StudyDescription"])



# --------------------------------------------------------------------------- ch02-tensor

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "02_medical_image_files.ipynb"


def _tensor_solution_source() -> str:
    """The code cell of the chapter's solution of exercise ch02-ex-tensor that defines it."""
    import json

    cells = json.loads(CHAPTER.read_text(encoding="utf-8"))["cells"]
    start = next(i for i, c in enumerate(cells)
                 if "{solution-start} ch02-ex-tensor" in "".join(c["source"]))
    return "".join(cells[start + 1]["source"])


def _solution(replace: tuple[str, str] | None = None):
    source = _tensor_solution_source()
    if replace is not None:
        assert replace[0] in source, f"the solution no longer contains {replace[0]!r}"
        source = source.replace(*replace)
    namespace: dict = {}
    exec(compile(source, "ch02-ex-tensor solution", "exec"), namespace)  # noqa: S102
    return namespace["folder_to_tensor"]


def _tensor_feedback(answer) -> str:
    from medlab.teach import feedback

    return feedback("ch02-tensor", answer) or ""


def test_tensor_exercise_folder(tmp_path):
    import pydicom

    from medlab.checks.ch02 import tensor_exercise_folder

    folder = tensor_exercise_folder(tmp_path / "series")
    datasets = [pydicom.dcmread(p) for p in sorted(folder.iterdir())]
    assert len(datasets) == 7
    assert len({str(ds.SeriesInstanceUID) for ds in datasets}) == 2
    assert sum("LOCALIZER" in ds.ImageType for ds in datasets) == 1
    z = [float(ds.ImagePositionPatient[2]) for ds in datasets
         if "LOCALIZER" not in ds.ImageType and ds.Rows == 16 and abs(ds.ImagePositionPatient[2]) < 50]
    assert z != sorted(z) and z != sorted(z, reverse=True)  # file names say nothing of the order
    with pytest.raises(ValueError, match="not empty"):
        tensor_exercise_folder(folder)


def test_ch02_tensor_solution_passes_and_mistakes_are_named(tmp_path):
    from medlab.checks.ch02 import TENSOR_SPACING, TENSOR_WINDOW, tensor_exercise_folder

    folder = tensor_exercise_folder(tmp_path / "series")
    tensor, spacing = _solution()(folder, TENSOR_SPACING, TENSOR_WINDOW)
    assert tensor.shape == (1, 6, 8, 8) and tensor.dtype == np.float32
    assert spacing == pytest.approx(TENSOR_SPACING)
    assert check("ch02-tensor", (tensor, spacing))
    import torch

    assert check("ch02-tensor", (torch.from_numpy(tensor), list(spacing)))
    # stacked head to feet (as InstanceNumber runs here), with the spacing taken as positive
    assert "wrong order" in _tensor_feedback((np.ascontiguousarray(tensor[:, ::-1]), spacing))
    no_rescale = _solution((" * float(ds.RescaleSlope) + float(ds.RescaleIntercept)", ""))
    assert "RescaleSlope" in _tensor_feedback(no_rescale(folder, TENSOR_SPACING, TENSOR_WINDOW))
    assert "(x, y, z) order" in _tensor_feedback((tensor, spacing[::-1]))
    assert "(W, H, D) order" in _tensor_feedback((tensor[0].transpose(2, 1, 0)[None], spacing))
    assert "rows and columns are swapped" in _tensor_feedback((tensor.transpose(0, 1, 3, 2),
                                                               spacing))
    assert "float32" in _tensor_feedback((tensor.astype(np.float64), spacing))
    assert "one channel" in _tensor_feedback((tensor[0], spacing))
    assert "outside [0, 1]" in _tensor_feedback((tensor * 400 - 160, spacing))
    assert "not the one the exercise asks" in _tensor_feedback((tensor, (1.0, 1.0, 1.0)))
    assert "values differ" in _tensor_feedback((tensor * 0.5, spacing))
    assert "(tensor, spacing)" in _tensor_feedback(tensor)
    # a folder where the stray slice claims the series' UID: one series is not enough
    import pydicom

    stray = pydicom.dcmread(folder / "IM0003.dcm")
    stray.SeriesInstanceUID = pydicom.dcmread(folder / "IM0001.dcm").SeriesInstanceUID
    stray.save_as(folder / "IM0003.dcm")
    tall, tall_spacing = _solution()(folder, TENSOR_SPACING, TENSOR_WINDOW)
    assert "keep one SeriesInstanceUID" in _tensor_feedback((tall, tall_spacing))


# --------------------------------------------------------------------------- series

SERIES = Path(files.testdata_path("CT_small.dcm")).parent / "dicomdirtests"
CT5N = SERIES / "98892001" / "CT5N"      # five contiguous axial slices, 2.5 mm apart
CT2 = SERIES / "77654033" / "CT2"        # four slices, one far from the others
MR700 = SERIES / "98892003" / "MR700"    # seven rotating MIPs of an MR angiogram


def test_load_series_ct5n_geometry():
    img = files.load_series(CT5N)
    assert img.shape == (16, 16, 5)
    assert img.header.get_zooms() == pytest.approx((0.488281, 0.488281, 2.5), abs=1e-5)
    assert "".join(__import__("nibabel").aff2axcodes(img.affine)) == "LPS"
    # first voxel: IPP of the lowest slice, LPS -> RAS flips x and y
    np.testing.assert_allclose(img.affine[:3, 3], [72.2, 143.0, -1.2375], atol=1e-4)
    assert img.header.get_sform(coded=True)[1] == 1 and img.header.get_qform(coded=True)[1] == 1
    ordered, positions, spacing = files.sort_slices(
        [files.read_dicom(p) for p in sorted(CT5N.iterdir())])
    assert spacing == pytest.approx(2.5) and list(np.diff(positions)) == pytest.approx([2.5] * 4)
    assert [int(ds.InstanceNumber) for ds in ordered] == [10, 9, 8, 7, 6]  # not file order
    hu = np.stack([(files.to_hounsfield(ds)).T for ds in ordered], axis=-1)
    np.testing.assert_array_equal(img.get_fdata(), hu)


def test_load_series_matches_simpleitk(tmp_path):
    sitk = pytest.importorskip("SimpleITK")
    nib = pytest.importorskip("nibabel")
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(CT5N)))
    itk = reader.Execute()
    sitk.WriteImage(itk, str(tmp_path / "itk.nii.gz"))
    ours = files.load_series(CT5N)
    nib.save(ours, tmp_path / "ours.nii.gz")
    theirs, back = nib.load(tmp_path / "itk.nii.gz"), nib.load(tmp_path / "ours.nii.gz")
    np.testing.assert_allclose(theirs.affine, ours.affine, atol=1e-4)
    np.testing.assert_array_equal(theirs.get_fdata(), ours.get_fdata())
    np.testing.assert_allclose(back.affine, ours.affine, atol=1e-5)
    # ITK's origin is the same point in LPS
    np.testing.assert_allclose(itk.GetOrigin(), ours.affine[:3, 3] * [-1, -1, 1], atol=1e-4)


def test_load_series_from_paths_in_any_order():
    paths = sorted(CT5N.iterdir())[::-1]
    a, b = files.load_series(paths), files.load_series(CT5N)
    np.testing.assert_array_equal(a.get_fdata(), b.get_fdata())
    np.testing.assert_allclose(a.affine, b.affine)


def test_load_series_gap():
    with pytest.raises(files.MedicalFileError,
                       match=r"CT2: uneven slice spacing: 202.50 mm .* 1.25 mm apart: about 161"):
        files.load_series(CT2)


def test_load_series_missing_slice(tmp_path):
    for p in sorted(CT5N.iterdir()):
        if p.name != "2693":  # the middle slice
            shutil.copy(p, tmp_path / p.name)
    with pytest.raises(files.MedicalFileError, match=r"5.00 mm .* 2.50 mm apart: about 1 slice"):
        files.load_series(tmp_path)


def test_load_series_refuses_projections_and_localizers():
    # MR700 holds maximum-intensity projections (ImageType DERIVED\\SECONDARY\\PROJECTION IMAGE)
    with pytest.raises(files.MedicalFileError,
                       match=r"MR700: ImageType of 7 of 7 files .* is PROJECTION IMAGE.*neither "
                             r"stacked nor resampled"):
        files.load_series(MR700)
    # the check comes before the geometry: a projection is refused even on a regular grid
    slices = [files.read_dicom(p) for p in sorted(CT5N.iterdir())]
    slices[3].ImageType = ["DERIVED", "SECONDARY", "PROJECTION IMAGE"]
    with pytest.raises(files.MedicalFileError, match="ImageType of 1 of 5 files .* PROJECTION"):
        files.sort_slices(slices)
    slices[3].ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    with pytest.raises(files.MedicalFileError, match="is LOCALIZER: a localizer"):
        files.load_series(slices)
    slices[3].ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    assert files.load_series(slices).shape == (16, 16, 5)
    del slices[3].ImageType  # an optional element: its absence is no reason to refuse
    assert files.load_series(slices).shape == (16, 16, 5)


def test_load_series_refuses_a_tilted_gantry(tmp_path):
    import pydicom

    for path in sorted(CT5N.iterdir()):  # shift each slice sideways with its height: a shear
        ds = pydicom.dcmread(path)
        ipp = [float(v) for v in ds.ImagePositionPatient]
        ipp[1] += 0.2 * ipp[2]
        ds.ImagePositionPatient = ipp
        ds.GantryDetectorTilt = 11.3
        ds.save_as(tmp_path / path.name)
    with pytest.raises(files.MedicalFileError,
                       match=r"0.50 mm sideways for 2.50 mm .*\(11.3 degrees.*'11.3'.*qform"):
        files.load_series(tmp_path)
    slices = [files.read_dicom(p) for p in sorted(CT5N.iterdir())]
    ipp = [float(v) for v in slices[2].ImagePositionPatient]
    slices[2].ImagePositionPatient = [ipp[0], ipp[1] + 0.02, ipp[2]]  # below 1% of 2.5 mm
    assert files.load_series(slices).shape == (16, 16, 5)
    slices[2].ImagePositionPatient = [ipp[0], ipp[1] + 0.1, ipp[2]]
    with pytest.raises(files.MedicalFileError, match="sideways"):
        files.sort_slices(slices)


def test_load_series_mixed_orientations():
    slices = [files.read_dicom(p) for p in sorted(CT5N.iterdir())]
    slices[2].ImageOrientationPatient = [1, 0, 0, 0, 0, -1]  # one coronal slice
    with pytest.raises(files.MedicalFileError, match="2 distinct orientations in 5"):
        files.load_series(slices)


def test_load_series_two_series_in_one_folder(tmp_path):
    for folder in (CT5N, CT2):
        for p in folder.iterdir():
            shutil.copy(p, tmp_path / p.name)
    with pytest.raises(files.MedicalFileError, match=r"2 series mixed.*\(4 files.*\(5 files"):
        files.load_series(tmp_path)
    uid = str(files.read_dicom(next(CT5N.iterdir())).SeriesInstanceUID)
    assert files.load_series(tmp_path, series_uid=uid).shape == (16, 16, 5)
    with pytest.raises(ValueError, match="no file of series_uid"):
        files.load_series(tmp_path, series_uid="1.2.3")


def test_load_series_bad_input(tmp_path):
    with pytest.raises(files.MedicalFileError, match="holds no files"):
        files.load_series(tmp_path)
    with pytest.raises(files.MedicalFileError, match="expected a folder"):
        files.load_series(tmp_path / "nope")
    with pytest.raises(ValueError, match="source. is empty"):
        files.load_series([])
    one = [files.read_dicom(next(CT5N.iterdir()))]
    with pytest.raises(ValueError, match="at least 2 slices"):
        files.sort_slices(one)
    twice = [files.read_dicom(p) for p in sorted(CT5N.iterdir())[:2]] * 2
    with pytest.raises(files.MedicalFileError, match="two slices at the same position"):
        files.sort_slices(twice)
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(files.MedicalFileError, match="notes.txt: not a DICOM file"):
        files.load_series(tmp_path)
