"""The CSV core: text columns, line numbers, encodings, separators, malformed lines."""

from __future__ import annotations

import pytest

from pipelines.connectors._csv import read_csv, read_header
from pipelines.errors import SourceError


def test_values_stay_text_and_empty_fields_are_null(tmp_path, write):
    path = write(tmp_path / "a.csv", "code;n\n01001;007\n2A004;\n")
    table = read_csv(path)
    assert table.column("code").to_pylist() == ["01001", "2A004"]
    assert table.column("n").to_pylist() == ["007", None]
    assert table.header.sep == ";"


def test_bom_and_crlf_are_handled(tmp_path, write):
    path = write(tmp_path / "a.csv", "\ufeffid,v\nA,1\nB,2\n", newline="\r\n")
    table = read_csv(path)
    assert table.header.names == ["id", "v"]
    assert table.column("v").to_pylist() == ["1", "2"]


def test_line_numbers_count_quoted_newlines_and_blank_lines(tmp_path, write):
    text = 'id,adresse,v\nA,"1 rue\nde la Paix",1\n\nB,x,2\nC,"a\n\nb",3\nD,y,4\n'
    table = read_csv(write(tmp_path / "a.csv", text))
    assert table.column("id").to_pylist() == ["A", "B", "C", "D"]
    assert [table.line_of(i) for i in range(4)] == [2, 5, 6, 9]
    error = table.error("bad.", index=3, column="v")
    assert error.row == 9 and "row 9" in str(error)


@pytest.mark.parametrize("sep", [";", ",", "|", "\t"])
def test_separator_is_sniffed_from_the_header(tmp_path, write, sep):
    path = write(tmp_path / "a.csv", f"a{sep}b{sep}c\n1{sep}2{sep}3\n")
    assert read_header(path).sep == sep


def test_declared_latin1_is_decoded(tmp_path, write):
    path = write(tmp_path / "a.csv", "nom|n\nDépendance|1\n", encoding="latin-1")
    assert read_csv(path, encoding="latin-1").column("nom").to_pylist() == ["Dépendance"]


def test_latin1_read_as_utf8_names_the_first_bad_line(tmp_path, write, check_error):
    path = write(tmp_path / "a.csv", "nom|n\nMaison|1\nDépendance|2\n", encoding="latin-1")
    with pytest.raises(SourceError) as excinfo:
        read_csv(path)
    check_error(excinfo.value, file=path, row=3, contains=("not valid utf-8", "encoding: latin-1"))


def test_a_line_with_too_many_fields_is_located_without_its_values(tmp_path, write, check_error):
    path = write(tmp_path / "a.csv", "a,b\n1,2\n3,SECRET,4\n")
    with pytest.raises(SourceError) as excinfo:
        read_csv(path)
    check_error(excinfo.value, row=3, contains=("3 fields where the header has 2", "`sep:`"),
                secrets=("SECRET",))


def test_an_unclosed_quote_is_located(tmp_path, write, check_error):
    path = write(tmp_path / "a.csv", 'a,b\n1,2\n3,"SECRET\n')
    with pytest.raises(SourceError) as excinfo:
        read_csv(path)
    check_error(excinfo.value, row=3, contains=("quoted value",), secrets=("SECRET",))


def test_header_only_file_has_no_data_rows(tmp_path, write, check_error):
    path = write(tmp_path / "a.csv", "a,b\n")
    with pytest.raises(SourceError) as excinfo:
        read_csv(path)
    check_error(excinfo.value, row=2, contains=("no data rows",))


@pytest.mark.parametrize("text", ["", "\ufeff", "\n\n  \n"])
def test_empty_files_are_refused(tmp_path, write, check_error, text):
    path = write(tmp_path / "a.csv", text)
    with pytest.raises(SourceError) as excinfo:
        read_csv(path)
    check_error(excinfo.value, file=path, contains=("the file is empty",))


def test_missing_file_names_the_card_field(tmp_path, check_error):
    with pytest.raises(SourceError) as excinfo:
        read_csv(tmp_path / "nope.csv")
    check_error(excinfo.value, contains=("does not exist", "`file:`"))


def test_duplicated_header_is_refused(tmp_path, write, check_error):
    path = write(tmp_path / "a.csv", "a,b,a\n1,2,3\n")
    with pytest.raises(SourceError) as excinfo:
        read_csv(path)
    check_error(excinfo.value, row=1, column="a", contains=("more than once",))


def test_only_requested_columns_are_read(tmp_path, write):
    path = write(tmp_path / "a.csv", "a,b,c\n1,2,3\n")
    assert read_csv(path, columns=["c", "a"]).table.column_names == ["c", "a"]
