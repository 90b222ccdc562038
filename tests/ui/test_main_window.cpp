// ui/MainWindow: opens, shows what it was given, and closes cleanly.
#include <QLabel>
#include <QPlainTextEdit>
#include <QTest>

#include "ui/main_window.h"

class TestMainWindow : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void opensWithDeviceAndClosesCleanly() {
    respo::ui::MainWindow window({"0.1.0", "CPU (2 threads), float32", {}, /*loadModelOnStart=*/false});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.windowTitle(), QString("RespoDiff Studio"));
    auto* device = window.findChild<QLabel*>("deviceLabel");
    QVERIFY(device);
    QCOMPARE(device->text(), QString("CPU (2 threads), float32"));
    auto* prompt = window.findChild<QPlainTextEdit*>("promptEdit");
    QVERIFY(prompt);
    QTest::keyClicks(prompt, "a photo of a doctor");
    QCOMPARE(window.prompt(), QString("a photo of a doctor"));
    QVERIFY(window.close());
    QVERIFY(!window.isVisible());
  }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
