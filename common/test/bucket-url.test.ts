/** dynamoEndpoint: where a DynamoDB bucket URL's requests go, as start-up errors name it. */
import assert from "node:assert/strict";
import { dynamoEndpoint, parseBucketUrl } from "../bucket-url.js";
import type { DynamoBucketUrl } from "../bucket-url.js";

const dynamo = (url: string): DynamoBucketUrl => parseBucketUrl(url) as DynamoBucketUrl;

describe("dynamoEndpoint", () => {
  it("is the URL's endpoint= first, whatever the environment says", () => {
    assert.deepEqual(
      dynamoEndpoint(dynamo("dynamodb://us-east-1/files<>chunks?endpoint=http://127.0.0.1:8000"), {
        AWS_ENDPOINT_URL_DYNAMODB: "http://other:1",
      }),
      { url: "http://127.0.0.1:8000" },
    );
  });

  it("is AWS_ENDPOINT_URL_DYNAMODB, then AWS_ENDPOINT_URL, naming the variable", () => {
    const url = dynamo("dynamodb://us-east-1/files<>chunks");
    const both = { AWS_ENDPOINT_URL_DYNAMODB: "http://ddb:8000", AWS_ENDPOINT_URL: "http://ls:4566" };
    assert.deepEqual(dynamoEndpoint(url, both), { url: "http://ddb:8000", variable: "AWS_ENDPOINT_URL_DYNAMODB" });
    assert.deepEqual(dynamoEndpoint(url, { AWS_ENDPOINT_URL: "http://ls:4566" }), {
      url: "http://ls:4566",
      variable: "AWS_ENDPOINT_URL",
    });
    assert.deepEqual(dynamoEndpoint(url, { ...both, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" }), {
      url: "https://dynamodb.us-east-1.amazonaws.com",
    });
  });

  it("is the region's public endpoint otherwise (amazonaws.com.cn in China)", () => {
    assert.deepEqual(dynamoEndpoint(dynamo("dynamodb://eu-west-1/files<>chunks"), {}), {
      url: "https://dynamodb.eu-west-1.amazonaws.com",
    });
    assert.deepEqual(dynamoEndpoint(dynamo("dynamodb://cn-north-1/files<>chunks"), {}), {
      url: "https://dynamodb.cn-north-1.amazonaws.com.cn",
    });
  });
});
