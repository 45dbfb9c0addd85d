package dev.checkprop.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CsvLoaderTest {

    @TempDir
    Path dir;

    private Path write(String text) throws IOException {
        Path p = dir.resolve("data.csv");
        Files.write(p, text.getBytes(StandardCharsets.UTF_8));
        return p;
    }

    /** Loads {@code text} from a file and answers the message of the error it must cause. */
    private String error(CsvLoader loader, String text) throws IOException {
        Path p = write(text);
        String message = assertThrows(DataFormatException.class, () -> loader.load(p)).getMessage();
        assertTrue(message.startsWith(p.toString()), "the message names the file: " + message);
        return message.substring(p.toString().length());
    }

    @Test
    void classificationWithHeaderAndLabelLast() throws IOException {
        Dataset d = CsvLoader.classification(-1).load(write("x1,x2,label\n0.5,-1,0\n1.5e2,2,2\n.25,3.,1\n"));
        assertEquals(3, d.size());
        assertEquals(2, d.inputWidth());
        assertEquals(3, d.classes());
        assertArrayEquals(new float[] {0.5f, -1, 150, 2, 0.25f, 3}, d.toBatch().inputs());
        assertArrayEquals(new int[] {0, 2, 1}, d.toBatch().labels());
    }

    @Test
    void labelInTheFirstColumnWithoutHeader() throws IOException {
        Dataset d = CsvLoader.classification(0).load(write("1,0.5,0.25\n0,1,2\n3.0,4,5\n"));
        assertArrayEquals(new float[] {0.5f, 0.25f, 1, 2, 4, 5}, d.toBatch().inputs());
        assertArrayEquals(new int[] {1, 0, 3}, d.toBatch().labels(), "3.0 is an integer label");
        assertEquals(4, d.classes());
    }

    @Test
    void regressionTakesTheLastColumns() throws IOException {
        Dataset d = CsvLoader.regression(2).load(write("a,b,c,d\n1,2,3,4\n5,6,7,8\n"));
        assertEquals(2, d.inputWidth());
        assertEquals(2, d.targetWidth());
        assertArrayEquals(new float[] {1, 2, 5, 6}, d.toBatch().inputs());
        assertArrayEquals(new float[] {3, 4, 7, 8}, d.toBatch().targets());
    }

    @Test
    void bomCrlfQuotesSpacesBlankLinesAndOtherDelimiters() throws IOException {
        String text = "\uFEFF\"x\" ; \"y\" ; \"t\"\r\n\r\n 1 ; \"2\" ; 3 \r\n   \r\n4;5;6\r\n";
        Dataset d = CsvLoader.regression(1).delimiter(';').load(write(text));
        assertArrayEquals(new float[] {1, 2, 4, 5}, d.toBatch().inputs());
        assertArrayEquals(new float[] {3, 6}, d.toBatch().targets());
        Dataset tabs = CsvLoader.classification(1).delimiter('\t').read(new StringReader("0.5\t1\n0.25\t0\n"), "tabs");
        assertArrayEquals(new int[] {1, 0}, tabs.toBatch().labels());
    }

    @Test
    void headerRules() throws IOException {
        assertEquals(2, CsvLoader.regression(1).load(write("1,2\n3,4\n")).size(), "a numeric first row is data");
        assertEquals(1, CsvLoader.regression(1).header(CsvLoader.Header.PRESENT).load(write("1,2\n3,4\n")).size(),
                "PRESENT skips it anyway");
        assertEquals(" line 1, column 1: 'x' is not a number",
                error(CsvLoader.regression(1).header(CsvLoader.Header.ABSENT), "x,y\n1,2\n"));
        // A first row with one number is data with a typo, not a header.
        assertEquals(" line 1, column 2: 'abc' is not a number", error(CsvLoader.regression(1), "1,abc,3\n4,5,6\n"));
    }

    @Test
    void fixedClassCount() throws IOException {
        Dataset d = CsvLoader.classification(-1).classes(5).load(write("0.1,0\n0.2,1\n"));
        assertEquals(5, d.classes(), "K as given, though the file only has labels 0 and 1");
        assertEquals(" line 3, column 2: label '5' is out of range 0..4",
                error(CsvLoader.classification(-1).classes(5), "0.1,0\n0.2,1\n0.3,5\n"));
        assertThrows(IllegalStateException.class, () -> CsvLoader.regression(1).classes(3));
    }

    @Test
    void raggedRows() throws IOException {
        assertEquals(" line 17: expected 5 columns, got 4",
                error(CsvLoader.regression(1), "a,b,c,d,e\n" + "1,2,3,4,5\n".repeat(14) + "\n" + "1,2,3,4\n"));
        assertEquals(" line 3: expected 2 columns, got 3", error(CsvLoader.classification(0), "0,1\n1,2\n0,1,2\n"));
    }

    @Test
    void badValues() throws IOException {
        CsvLoader loader = CsvLoader.regression(1);
        assertEquals(" line 3, column 2: 'abc' is not a number", error(loader, "a,b,c\n1,2,3\n4,abc,6\n"));
        assertEquals(" line 2, column 1: 'NaN' is not finite: values must be finite", error(loader, "a,b\nNaN,1\n"));
        assertEquals(" line 2, column 2: '-inf' is not finite: values must be finite", error(loader, "a,b\n1,-inf\n"));
        assertEquals(" line 2, column 2: 'Infinity' is not finite: values must be finite", error(loader, "a,b\n1,Infinity\n"));
        assertEquals(" line 2, column 1: '1e39' is beyond float range", error(loader, "a,b\n1e39,1\n"));
        assertEquals(" line 2, column 2: empty field is not a number", error(loader, "a,b\n1,\n"));
        assertEquals(" line 2, column 1: '0x1p3' is not a number", error(loader, "a,b\n0x1p3,1\n"));
        assertEquals(" line 2, column 1: '1f' is not a number", error(loader, "a,b\n1f,1\n"));
        assertEquals(" line 2, column 1: '1e' is not a number", error(loader, "a,b\n1e,1\n"));
        assertEquals(" line 2, column 1: '.' is not a number", error(loader, "a,b\n.,1\n"));
    }

    @Test
    void badLabels() throws IOException {
        CsvLoader loader = CsvLoader.classification(2);
        assertEquals(" line 2, column 3: label '-1' is negative: labels must be 0..K-1", error(loader, "a,b,y\n1,2,-1\n"));
        assertEquals(" line 3, column 3: label '2.5' is not an integer", error(loader, "a,b,y\n1,2,0\n1,2,2.5\n"));
        assertEquals(" line 2, column 3: 'cat' is not a number", error(loader, "a,b,y\n1,2,cat\n"));
        assertEquals(" line 2, column 3: label '3e9' is too large", error(loader, "a,b,y\n1,2,3e9\n"));
    }

    @Test
    void badLayouts() throws IOException {
        assertEquals(" line 1: label column 3 does not exist in a 3-column file", error(CsvLoader.classification(3), "a,b,c\n1,2,3\n"));
        assertEquals(" line 1: label column -4 does not exist in a 3-column file", error(CsvLoader.classification(-4), "1,2,3\n"));
        assertEquals(" line 2: a 1-column file has no input columns besides the label column",
                error(CsvLoader.classification(0), "\n0\n1\n"));
        assertEquals(" line 1: a 2-column file has no input columns besides the 2 target columns", error(CsvLoader.regression(2), "1,2\n"));
        assertEquals(" line 1: a 2-column file has no input columns besides the 3 target columns", error(CsvLoader.regression(3), "1,2\n"));
        assertEquals(": no data rows", error(CsvLoader.regression(1), "a,b\n\n"));
        assertEquals(": no data rows (the file is empty)", error(CsvLoader.regression(1), ""));
    }

    @Test
    void badOptions() {
        assertThrows(IllegalArgumentException.class, () -> CsvLoader.regression(0));
        assertThrows(IllegalArgumentException.class, () -> CsvLoader.regression(1).delimiter('.'));
        assertThrows(IllegalArgumentException.class, () -> CsvLoader.regression(1).delimiter('"'));
        assertThrows(IllegalArgumentException.class, () -> CsvLoader.classification(0).classes(0));
    }

    @Test
    void readerSourceNamesTheText() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> CsvLoader.regression(1).read(new StringReader("1,2\n3\n"), "inline"));
        assertEquals("inline line 2: expected 2 columns, got 1", e.getMessage());
    }

    /** Every row range read through the index gives the rows of load, in order; the whole file once. */
    private static void assertRangesMatch(CsvLoader loader, Path p) throws IOException {
        Dataset all = loader.load(p);
        CsvLoader.RowIndex index;
        try (java.io.InputStream in = Files.newInputStream(p)) {
            index = loader.index(in, p.toString());
        }
        assertEquals(all.size(), index.rows());
        for (int from = 0; from < all.size(); from++) {
            for (int to = from + 1; to <= all.size(); to++) {
                Dataset part;
                try (java.io.InputStream in = Files.newInputStream(p)) {
                    in.skipNBytes(index.rowOffsets()[from]);
                    part = loader.readRows(in, p.toString(), index, from, to);
                }
                assertSameRows(all, part, from, to);
            }
        }
    }

    private static void assertSameRows(Dataset all, Dataset part, int from, int to) {
        dev.checkprop.nn.Batch a = all.toBatch();
        dev.checkprop.nn.Batch b = part.toBatch();
        int w = a.inputWidth();
        assertArrayEquals(java.util.Arrays.copyOfRange(a.inputs(), from * w, to * w), b.inputs(), from + ".." + to);
        if (a.labels() != null) {
            assertArrayEquals(java.util.Arrays.copyOfRange(a.labels(), from, to), b.labels());
            assertEquals(all.classes(), part.classes());
        } else {
            int t = a.targetWidth();
            assertArrayEquals(java.util.Arrays.copyOfRange(a.targets(), from * t, to * t), b.targets());
        }
    }

    @Test
    void rowRangesThroughTheIndexAreTheRowsOfLoad() throws IOException {
        // A BOM, a header, blank lines, CRLF, a lone CR, quotes, spaces, no final newline, non-ASCII in the header.
        assertRangesMatch(CsvLoader.classification(-1),
                write("\uFEFFx1,x\u00e9,label\r\n0.5,-1,0\r\n\r\n  1.5e2 ,\"2\",2\r3,4,1\n\n.25,3.,1"));
        assertRangesMatch(CsvLoader.classification(0).header(CsvLoader.Header.ABSENT), write("1,0.5,0.25\n0,1,2\n\n3.0,4,5\n"));
        assertRangesMatch(CsvLoader.regression(2).delimiter(';'), write("a;b;c;d\n1;2;3;4\n5;6;7;8\n9;10;11;12\n"));
    }

    @Test
    void theIndexRefusesWhatLoadRefusesWithTheSameMessage() throws IOException {
        for (String text : new String[] {"a,b\n1,2\n3,x\n", "1,2\n3\n", "1,2\n3,5\n", "a,b\n", "1,2\n\u00e9\u00ff,1\n"}) {
            Path p = write(text);
            String expected = assertThrows(DataFormatException.class, () -> CsvLoader.classification(-1).load(p)).getMessage();
            try (java.io.InputStream in = Files.newInputStream(p)) {
                assertEquals(expected, assertThrows(DataFormatException.class,
                        () -> CsvLoader.classification(-1).index(in, p.toString())).getMessage());
            }
        }
        Path bad = dir.resolve("latin1.csv");
        Files.write(bad, new byte[] {'1', ',', '2', '\n', '3', ',', (byte) 0xE9, '\n'});
        try (java.io.InputStream in = Files.newInputStream(bad)) {
            assertEquals(bad + " line 2, byte 6: not valid UTF-8 (is the file Latin-1 or another encoding? convert it to UTF-8)",
                    assertThrows(DataFormatException.class, () -> CsvLoader.classification(-1).index(in, bad.toString()))
                            .getMessage());
        }
    }

    @Test
    void aRangeOfAFileChangedAfterIndexingNamesItsLine() throws IOException {
        Path p = write("1,2\n3,4\n5,6\n");
        CsvLoader.RowIndex index;
        try (java.io.InputStream in = Files.newInputStream(p)) {
            index = CsvLoader.regression(1).index(in, p.toString());
        }
        Files.writeString(p, "1,2\n3,z\n");
        try (java.io.InputStream in = Files.newInputStream(p)) {
            in.skipNBytes(index.rowOffsets()[1]);
            assertEquals(p + " line 2, column 2: 'z' is not a number", assertThrows(DataFormatException.class,
                    () -> CsvLoader.regression(1).readRows(in, p.toString(), index, 1, 3)).getMessage());
        }
        Files.writeString(p, "1,2\n3,4\n");
        try (java.io.InputStream in = Files.newInputStream(p)) {
            in.skipNBytes(index.rowOffsets()[1]);
            assertEquals(p + " line 2: the file ended after 1 of rows 1..2; was it changed after it was indexed?",
                    assertThrows(DataFormatException.class,
                            () -> CsvLoader.regression(1).readRows(in, p.toString(), index, 1, 3)).getMessage());
        }
    }
}
