package dev.checkprop.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeaderJsonTest {

    private static HeaderJson reader(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        return new HeaderJson(bytes, 0, bytes.length, "t");
    }

    private static String string(String json) throws SafeTensorsException {
        HeaderJson r = reader(json);
        String s = r.readString("test");
        r.expectEnd();
        return s;
    }

    @Test
    void decodesEveryEscape() throws Exception {
        assertEquals("\" \\ / \b \f \n \r \t A é 😀", string("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00E9 \\ud83d\\ude00\""));
        assertEquals("raw é 😀 中", string("\"raw é 😀 中\""));
        assertEquals("", string("\"\""));
    }

    @Test
    void writtenStringsReadBackUnchanged() throws Exception {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x80; c++) {
            all.append(c);
        }
        all.append("é\u2028😀\uffff");
        StringBuilder json = new StringBuilder();
        HeaderJson.appendString(json, all.toString());
        assertEquals(all.toString(), string(json.toString()));
        // serde_json's choices: short escapes where JSON has them, lowercase \\u00xx otherwise, '/' and DEL raw.
        assertEquals("\"\\u0000\\u001f\\b/\u007f\"", HeaderJson.quote("\u0000\u001f\b/\u007f"));
    }

    @Test
    void readsOnlyPlainNonNegativeIntegersUpToTwoToThe53() throws Exception {
        assertEquals(0, reader("0").readUnsignedInteger("n"));
        assertEquals(1L << 53, reader(" 9007199254740992 ").readUnsignedInteger("n"));
        for (String bad : new String[] {"9007199254740993", "99999999999999999999", "-1", "-0", "1.0", "1e3", "1E+3"}) {
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> reader(bad).readUnsignedInteger("n"));
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
        for (String bad : new String[] {"", "+1", ".5", "-", "1.", "1e", "x"}) {
            assertThrows(SafeTensorsException.class, () -> {
                HeaderJson r = reader(bad);
                r.readUnsignedInteger("n");
                r.expectEnd();
            }, bad);
        }
    }

    @Test
    void skipsAnyValidValueAndRejectsInvalidOnes() throws Exception {
        String[] valid = {"true", "false", "null", "-0.5e-7", "0", "12.25E+2", "\"s\"", "[]", "{}",
            "[1, [2, {\"a\": [null]}], \"x\"]"};
        for (String v : valid) {
            HeaderJson r = reader(v);
            r.skipValue("v");
            r.expectEnd();
        }
        String[] invalid = {"tru", "nul", "01", "[1,]", "[1 2]", "{\"a\":1,}", "{\"a\"}", "{1:2}", "NaN", "Infinity",
            "'s'", "[", "{\"a\":1,\"a\":2}"};
        for (String v : invalid) {
            assertThrows(SafeTensorsException.class, () -> {
                HeaderJson r = reader(v);
                r.skipValue("v");
                r.expectEnd();
            }, v);
        }
    }

    @Test
    void allowsExactlySixtyFourLevelsOfNesting() throws Exception {
        String ok = "[".repeat(HeaderJson.MAX_DEPTH) + "]".repeat(HeaderJson.MAX_DEPTH);
        HeaderJson r = reader(ok);
        r.skipValue("v");
        r.expectEnd();
        String deep = "[".repeat(HeaderJson.MAX_DEPTH + 1) + "]".repeat(HeaderJson.MAX_DEPTH + 1);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> reader(deep).skipValue("v"));
        assertTrue(e.getMessage().contains("file offset " + (8 + HeaderJson.MAX_DEPTH)), e.getMessage());
    }

    @Test
    void visitsMembersAndElementsInOrder() throws Exception {
        HeaderJson r = reader("{\"b\": [3, 4], \"a\": []}");
        List<String> seen = new ArrayList<>();
        r.readObject("o", (key, p) -> r.readArray(key, i -> seen.add(key + i + "=" + r.readUnsignedInteger(key))));
        r.expectEnd();
        assertEquals(List.of("b0=3", "b1=4"), seen);
    }

    @Test
    void reportsTheFirstInvalidUtf8Byte() {
        byte[] bytes = {'{', '"', (byte) 0xc3, (byte) 0xa9, (byte) 0xe0, (byte) 0x80, (byte) 0x80, '"', '}'};
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> HeaderJson.checkUtf8(bytes, 0, bytes.length, "u"));
        assertTrue(e.getMessage().equals("u: header is not valid UTF-8 (at file offset 12)"), e.getMessage());
        byte[] surrogate = {(byte) 0xed, (byte) 0xa0, (byte) 0x80};
        assertThrows(SafeTensorsException.class, () -> HeaderJson.checkUtf8(surrogate, 0, 3, "u"));
        byte[] cut = {'a', (byte) 0xf0, (byte) 0x9f, (byte) 0x98};
        assertThrows(SafeTensorsException.class, () -> HeaderJson.checkUtf8(cut, 0, 4, "u"));
    }
}
