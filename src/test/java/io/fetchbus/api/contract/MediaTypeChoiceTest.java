package io.fetchbus.api.contract;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.RequestBody;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@link MediaTypeChoice} chooses as vertx-openapi does, for every request body of the contract, remembered or not. */
class MediaTypeChoiceTest {
  private static Vertx vertx;
  private static final List<RequestBody> BODIES = new ArrayList<>();

  @BeforeAll
  static void load() throws Exception {
    vertx = Vertx.vertx();
    OpenAPIContract contract = Contract.load(vertx).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS)
        .openapi();
    for (Operation op : contract.operations()) {
      if (op.getRequestBody() != null) {
        BODIES.add(op.getRequestBody());
      }
    }
  }

  @AfterAll
  static void close() {
    vertx.close();
  }

  @Test
  @DisplayName("the media type chosen for a Content-Type is vertx-openapi's, the first time and every time after")
  void sameChoiceAsVertxOpenApi() {
    assertThat(BODIES).isNotEmpty();
    List<String> headers = new ArrayList<>(List.of("application/json", "application/json; charset=utf-8",
        "application/json;charset=utf-8", "application / json", "application/json\t; charset=utf-8", "text/plain",
        "application/jsonx", "application/problem+json", "", "multipart/form-data; boundary=x"));
    for (int i = 0; i < 2 * MediaTypeChoice.MAX_REMEMBERED; i++) {
      headers.add(i % 2 == 0 ? "application/json; v=" + i : "text/x-" + i); // past the bound: chosen anew
    }
    for (RequestBody body : BODIES) {
      MediaTypeChoice choice = new MediaTypeChoice(body);
      for (int round = 0; round < 2; round++) {
        for (String header : headers) {
          assertThat(choice.determineContentType(header)).as(header).isSameAs(body.determineContentType(header));
        }
      }
      assertThat(choice.determineContentType(null)).isNull();
      assertThat(choice.isRequired()).isEqualTo(body.isRequired());
      assertThat(choice.getContent()).isSameAs(body.getContent());
    }
    MediaTypeChoice fetch = new MediaTypeChoice(BODIES.get(0));
    assertThat(fetch.determineContentType("application/json; charset=utf-8")).isNotNull();
    assertThat(fetch.determineContentType("text/plain")).isNull();
  }
}
