#include "sc_models/observe/json.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>

namespace iosim {
namespace {

// A document with every kind of value survives text and back, in member order.
TEST(Json, RoundTripKeepsValuesTypesAndMemberOrder) {
  Json doc = Json::object();
  doc["zeta"] = std::numeric_limits<uint64_t>::max();
  doc["alpha"] = int64_t{-42};
  doc["small"] = 1e-7;
  doc["ns"] = 43692.992209;
  doc["whole"] = 5000.0;
  doc["text"] = "quote \" backslash \\ newline \n micro \xc2\xb5s";
  doc["yes"] = true;
  doc["nothing"] = nullptr;
  doc["list"] = Json::array({1, 2.5, "x", Json::object()});
  doc["empty"] = Json::object();
  for (int indent : {0, 2}) {
    const Json back = parse_json(json_text(doc, indent));
    EXPECT_EQ(json_keys(back), json_keys(doc));
    EXPECT_EQ(back.at("zeta").get<uint64_t>(), std::numeric_limits<uint64_t>::max());
    EXPECT_EQ(back.at("alpha").get<int64_t>(), -42);
    EXPECT_EQ(back.at("small").get<double>(), 1e-7);
    EXPECT_EQ(back.at("ns").get<double>(), 43692.992209);
    EXPECT_TRUE(back.at("ns").is_number_float());
    // An integral double reads back as an integer (it is written without ".0").
    EXPECT_TRUE(back.at("whole").is_number_integer());
    EXPECT_EQ(back.at("whole").get<double>(), 5000.0);
    EXPECT_EQ(back.at("text").get<std::string>(), doc.at("text").get<std::string>());
    EXPECT_TRUE(back.at("yes").get<bool>());
    EXPECT_TRUE(back.at("nothing").is_null());
    EXPECT_EQ(back.at("list").size(), 4u);
    EXPECT_EQ(back.at("list").at(1).get<double>(), 2.5);
    EXPECT_TRUE(back.at("empty").is_object());
  }
}

// Doubles are written in their shortest form, as std::to_chars gives it; nlohmann's
// own dump() differs on exactly these (5000.0, 43692.992208999996).
TEST(Json, DoublesAreWrittenInTheShortestFormAndNonFiniteAsNull) {
  EXPECT_EQ(json_text(Json(5000.0)), "5000");
  EXPECT_EQ(json_text(Json(1e5)), "1e+05");
  EXPECT_EQ(json_text(Json(0.1)), "0.1");
  EXPECT_EQ(json_text(Json(0.0015)), "0.0015");
  EXPECT_EQ(json_text(Json(1e-7)), "1e-07");
  EXPECT_EQ(json_text(Json(43692.992209)), "43692.992209");
  EXPECT_EQ(json_text(Json(12345.678)), "12345.678");
  EXPECT_EQ(json_text(Json(std::nan(""))), "null");
  EXPECT_EQ(json_text(Json(INFINITY)), "null");
  EXPECT_EQ(json_text(Json(-INFINITY)), "null");
  EXPECT_EQ(json_number_text(0.0), "0");
  EXPECT_EQ(json_text(Json::array({std::numeric_limits<uint64_t>::max(), -42, true, nullptr})),
            "[18446744073709551615,-42,true,null]");
}

TEST(Json, PrettyPrintingAndCompactLayout) {
  Json doc = Json::object();
  doc["a"] = 1;
  doc["b"] = Json::array({2, 3});
  doc["c"] = Json::object();
  doc["d"] = Json::array();
  EXPECT_EQ(json_text(doc, 2),
            "{\n  \"a\": 1,\n  \"b\": [\n    2,\n    3\n  ],\n  \"c\": {},\n  \"d\": []\n}");
  EXPECT_EQ(json_text(doc), "{\"a\":1,\"b\":[2,3],\"c\":{},\"d\":[]}");
}

TEST(Json, StringsAreEscapedAsRfc8259Requires) {
  EXPECT_EQ(json_text(Json("a\"b\\c\nd\re\bf\fg\th")), "\"a\\\"b\\\\c\\nd\\re\\bf\\fg\\th\"");
  EXPECT_EQ(json_text(Json(std::string("\0\x01\x1f", 3))), "\"\\u0000\\u0001\\u001f\"");
  EXPECT_EQ(json_text(Json("micro \xc2\xb5s / ok")), "\"micro \xc2\xb5s / ok\"");  // as is
  EXPECT_EQ(json_text(Json("bad \xff byte")), "\"bad \xef\xbf\xbd byte\"");        // U+FFFD
  Json key = Json::object();
  key["k\"ey"] = 1;
  EXPECT_EQ(json_text(key), "{\"k\\\"ey\":1}");
  for (const std::string s : {"plain", "tab\there", "quote\"", "\xc2\xb5", "bad \xff"}) {
    std::string out;
    append_json_string(out, s);
    EXPECT_EQ(out, json_text(Json(s))) << s;
  }
}

TEST(Json, ParserDecodesEscapesAndRejectsBadInput) {
  const Json v = parse_json(R"( {"s": "a\u00b5\ud83d\ude00\/", "n": -1.5e3, "e": [], "o": {}} )");
  EXPECT_EQ(v.at("s").get<std::string>(), "a\xc2\xb5\xf0\x9f\x98\x80/");
  EXPECT_EQ(v.at("n").get<double>(), -1500.0);
  EXPECT_EQ(v.at("e").size(), 0u);
  EXPECT_EQ(v.at("o").size(), 0u);
  EXPECT_FALSE(v.contains("missing"));
  EXPECT_THROW(v.at("missing"), Json::out_of_range);
  EXPECT_EQ(json_keys(v), (std::vector<std::string>{"s", "n", "e", "o"}));
  EXPECT_TRUE(json_keys(v.at("e")).empty());
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"abc", "\"\\x\"", "nul",
                          "[1] x", "\"\\ud800\"", "{\"a\":1,}", "\"tab\there\""}) {
    EXPECT_THROW(parse_json(bad), std::invalid_argument) << bad;
  }
  try {
    parse_json("{\"a\": 1,\n \"b\" 2}");
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

TEST(Json, ReadJsonFileNamesTheFileInItsErrors) {
  const std::string dir = testing::TempDir();
  const std::string good = dir + "json_test_good_" + std::to_string(getpid()) + ".json";
  const std::string bad = dir + "json_test_bad_" + std::to_string(getpid()) + ".json";
  std::ofstream(good) << "{\"n\": 3}\n";
  std::ofstream(bad) << "{\"n\": ";
  EXPECT_EQ(read_json_file(good).at("n").get<int>(), 3);
  try {
    read_json_file(bad);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  try {
    read_json_file(dir + "json_test_missing.json");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("json_test_missing.json"), std::string::npos);
  }
  std::remove(good.c_str());
  std::remove(bad.c_str());
}

}  // namespace
}  // namespace iosim
