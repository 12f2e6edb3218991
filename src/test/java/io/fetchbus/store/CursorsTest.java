package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.eventbus.ReplyException;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.Base64;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CursorsTest {
  private static final String REFUSED = "after: is not a cursor returned as 'next' by this service";

  @Test
  @DisplayName("a cursor is URL-safe base64 of its listing's prefix and position, and round-trips")
  void roundTrips() {
    String cursor = Cursors.encodeId("p1:", 12);
    assertThat(cursor).isEqualTo("cDE6MTI").matches("[A-Za-z0-9_-]+");
    assertThat(Cursors.decodeId(cursor, "p1:", "this service")).isEqualTo(12);
    assertThat(Cursors.decodeId(Cursors.encodeId("c1:", Long.MAX_VALUE), "c1:", "this service")).isEqualTo(Long.MAX_VALUE);

    OffsetDateTime at = OffsetDateTime.parse("2026-12-07T03:40:00.123456Z");
    String id = "0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7a1";
    Cursors.TimeAndId back = Cursors.decodeTimeAndId(Cursors.encodeTimeAndId("w1:", at.toString(), id), "w1:", "this service");
    assertThat(back).isEqualTo(new Cursors.TimeAndId(at, id));
  }

  @Test
  @DisplayName("a tampered cursor, another listing's or no cursor at all is a 400 saying where cursors come from")
  void tamperedIsRefused() {
    String cursor = Cursors.encodeId("p1:", 12);
    refused(() -> Cursors.decodeId(cursor, "c1:", "this service"));
    refused(() -> Cursors.decodeId(cursor.substring(0, 4) + "Z" + cursor.substring(5), "p1:", "this service"));
    refused(() -> Cursors.decodeId("not a cursor!", "p1:", "this service"));
    refused(() -> Cursors.decodeTimeAndId(cursor, "p1:", "this service"));
    assertThatThrownBy(() -> Cursors.decode(cursor, "s1:", "a search of this service"))
        .hasMessage("after: is not a cursor returned as 'next' by a search of this service");
  }

  @ParameterizedTest(name = "p1:{0}")
  @ValueSource(strings = {"0", "-5", "+5", "012", "1e3", "", "9223372036854775808", "12345678901234567890"})
  @DisplayName("the id of a cursor is what a bigserial gives out: positive, no sign, no leading zero, within a long")
  void idRule(String forged) {
    refused(() -> Cursors.decodeId(forge("p1:" + forged), "p1:", "this service"));
  }

  @ParameterizedTest(name = "w1:{0}")
  @ValueSource(strings = {"2026-12-07T03:40:00Z", "2026-12-07T03:40:00Z|", "yesterday|0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7a1",
      "2026-12-07T03:40:00Z|1-2-3-4-5", "2026-12-07T03:40:00|0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7a1"})
  @DisplayName("a time-and-id cursor needs a time with its offset and a UUID in its canonical form")
  void timeAndIdRule(String forged) {
    refused(() -> Cursors.decodeTimeAndId(forge("w1:" + forged), "w1:", "this service"));
  }

  @Test
  @DisplayName("a time-and-id cursor gives its UUID back in the canonical lower case")
  void idIsCanonical() {
    String cursor = forge("j1:2026-12-07T03:40:00Z|0B9D2A47-6F5E-4D0A-9A53-4A8F5BB4C7A1");
    assertThat(Cursors.decodeTimeAndId(cursor, "j1:", "this service").id()).isEqualTo("0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7a1");
  }

  private static String forge(String content) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(content.getBytes(StandardCharsets.UTF_8));
  }

  private static void refused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
    assertThatThrownBy(call).isInstanceOfSatisfying(ReplyException.class, e -> assertThat(e.failureCode()).isEqualTo(400))
        .hasMessage(REFUSED);
  }
}
