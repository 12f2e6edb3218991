package io.fetchbus.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FieldsUuidTest {

  @Test
  @DisplayName("a UUID field takes the canonical form, in either case, and an absent one is null")
  void canonical() {
    UUID id = UUID.fromString("0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7a1");
    assertThat(Fields.uuid("id", "0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7a1", "a UUID")).isEqualTo(id);
    assertThat(Fields.uuid("id", "0B9D2A47-6F5E-4D0A-9A53-4A8F5BB4C7A1", "a UUID")).isEqualTo(id);
    assertThat(Fields.uuid(new JsonObject().put("jobId", id.toString()), "jobId", "a job id (a UUID)")).isEqualTo(id);
    assertThat(Fields.uuid(new JsonObject(), "jobId", "a job id (a UUID)")).isNull();
  }

  @ParameterizedTest(name = "''{0}''")
  @ValueSource(strings = {"1-2-3-4-5", "0b9d2a476f5e4d0a9a534a8f5bb4c7a1", "{0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7a1}",
      "0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7a", "0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7ag", " 0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7a1", ""})
  @DisplayName("anything but the canonical 8-4-4-4-12 hex form is a 400 naming the field, though UUID.fromString takes some")
  void onlyCanonical(String value) {
    assertThatThrownBy(() -> Fields.uuid("tokens", value, "lease tokens (UUIDs)"))
        .isInstanceOfSatisfying(ReplyException.class, e -> assertThat(e.failureCode()).isEqualTo(400))
        .hasMessage("tokens: must be lease tokens (UUIDs)");
  }
}
