// The studio's generation workspace end to end, through its widgets, on a small random SD model:
// generate, compare, switch a concept, cancel, survive a bad model file, save, and stay responsive.
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QMimeData>
#include <QMouseEvent>
#include <QUrl>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QPlainTextEdit>
#include <QRegularExpression>
#include <QToolButton>
#include <QDir>
#include <QElapsedTimer>
#include <QMessageBox>
#include <QPixmap>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <fstream>
#include <memory>

#include "core/io/image.h"
#include "tests/support/crafted_concept.h"
#include "tests/support/studio_testing.h"
#include "ui/comparison_view.h"
#include "ui/concept_panel.h"
#include "ui/main_window.h"
#include "ui/mask_painter.h"
#include "ui/parameter_form.h"

using respo::ui::JobResult;
using respo::ui::MainWindow;

namespace {
constexpr int kJobTimeoutMs = 120000;
}

class TestStudioGeneration : public QObject {
  Q_OBJECT
  QTemporaryDir home_;
  std::unique_ptr<MainWindow> window_;

  QPushButton* button(const char* name) { return window_->findChild<QPushButton*>(name); }
  void setSteps(int steps) { window_->findChild<QSpinBox*>("stepsSpin")->setValue(steps); }
  respo::testing::ConceptRow conceptItem(const QString& name) { return respo::testing::conceptItem(*window_, name); }
  JobResult generateByClick() { return respo::testing::generateByClick(*window_, kJobTimeoutMs); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(home_.isValid());
    // The concept library and the settings live in this test's own folders.
    qputenv("XDG_DATA_HOME", home_.filePath("data").toUtf8());
    qputenv("XDG_CONFIG_HOME", home_.filePath("config").toUtf8());
    // No shipped data either: the toy model's default concepts would join the library.
    qputenv("RESPODIFF_DATA_DIR", home_.filePath("share").toUtf8());
    QCoreApplication::setOrganizationName("RespoDiffTests");
    const std::filesystem::path library = home_.filePath("data/respodiff/concepts").toStdString();
    respo::testing::writeCraftedConcept(library / "violence.safetensors", RESPODIFF_TEST_MODEL,
                                        {.name = "crafted violence", .scale = 2.0});
    respo::testing::writeCraftedConcept(library / "foreign.safetensors", RESPODIFF_TEST_MODEL,
                                        {.name = "foreign module", .foreignFingerprint = true});

    // A LoRA in a sub-folder of the user's LoRA folder: the list names it by its stem.
    QVERIFY(QDir().mkpath(home_.filePath("data/respodiff/loras/styles")));
    QVERIFY(QFile::copy(RESPODIFF_TEST_LORA, home_.filePath("data/respodiff/loras/styles/sd1_kohya.safetensors")));

    respo::ui::AppInfo info{"test", "CPU, float32", RESPODIFF_TEST_MODEL, true, home_.filePath("pictures")};
    window_ = std::make_unique<MainWindow>(info);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    QTRY_COMPARE_WITH_TIMEOUT(window_->currentModel(), QString(RESPODIFF_TEST_MODEL), kJobTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(window_->conceptPanel()->conceptCount(), 2, 10000);
    // Concept edits below are followed by explicit clicks on Generate.
    window_->findChild<QCheckBox*>("liveUpdateCheck")->setChecked(false);
  }

  void cleanupTestCase() { window_.reset(); }

  void everyConceptOffGivesIdenticalSides() {
    setSteps(4);
    QTest::keyClicks(window_->findChild<QWidget*>("promptEdit"), "a photo of a doctor");
    const JobResult result = generateByClick();
    QCOMPARE(result.baseline.size(), 1);
    QVERIFY(result.responsibleIsBaseline);
    QCOMPARE(result.baseline.front().size(), QSize(32, 32));
    QCOMPARE(result.responsible.front(), result.baseline.front());
    QCOMPARE(window_->comparisonView()->responsible(), window_->comparisonView()->baseline());
    QVERIFY(result.parameters.startsWith("a photo of a doctor\n"));
  }

  void aConceptFromAnotherModelIsDisabledWithTheReason() {
    const auto item = conceptItem("foreign module");
    QVERIFY(item);
    QVERIFY(!(item->flags() & Qt::ItemIsEnabled));
    QVERIFY(item->toolTip(0).contains("another model"));
  }

  void oneConceptOnMakesTheSidesDifferAndReusesTheBaseline() {
    const QImage plain = window_->comparisonView()->baseline();
    const auto item = conceptItem("crafted violence");
    QVERIFY(item);
    QVERIFY(item->flags() & Qt::ItemIsEnabled);
    item->setCheckState(0, Qt::Checked);
    QCOMPARE(window_->conceptPanel()->selection().modules.size(), std::size_t{1});

    // Measure the UI thread's event-loop latency while the job runs: a 5 ms timer's worst gap.
    QElapsedTimer clock;
    qint64 last = 0, worst = 0, ticks = 0;
    QTimer timer;
    timer.setInterval(5);
    connect(&timer, &QTimer::timeout, this, [&] {
      const qint64 now = clock.elapsed();
      worst = std::max(worst, now - last);
      last = now;
      ++ticks;
    });
    setSteps(30);
    connect(window_->worker(), &respo::ui::GenerationWorker::jobStarted, &timer, [&] {
      clock.start();
      timer.start();
    });
    const JobResult result = generateByClick();
    timer.stop();
    disconnect(window_->worker(), &respo::ui::GenerationWorker::jobStarted, &timer, nullptr);
    QVERIFY(!result.responsible.isEmpty());
    qInfo("event-loop worst gap during a 30+30-step job: %lld ms over %lld ticks (%.1f s)", worst, ticks,
          clock.elapsed() / 1000.0);
    QVERIFY2(worst < 250, qPrintable(QString("UI thread blocked for %1 ms").arg(worst)));

    QVERIFY(!result.responsibleIsBaseline);
    QVERIFY(result.responsible.front() != result.baseline.front());
    QVERIFY(result.parameters.contains("RespoDiff: crafted violence [RAM 100% SAM 100%]"));
    // The difference view shows where they differ.
    QVERIFY(!window_->comparisonView()->difference().isNull());
    QVERIFY(plain != window_->comparisonView()->responsible());
    // RESPODIFF_SCREENSHOT=file.png keeps a picture of the window after a generation (for the docs).
    if (const QString shot = qEnvironmentVariable("RESPODIFF_SCREENSHOT"); !shot.isEmpty())
      QVERIFY(window_->grab().save(shot));

    // Only the strength changes: the baseline is reused and the responsible side moves.
    window_->findChild<QCheckBox*>("liveUpdateCheck")->setChecked(true);
    QSignalSpy finished(window_.get(), &MainWindow::resultShown);
    auto* ram = window_->findChild<QSlider*>("ram:crafted violence");
    QVERIFY(ram);
    ram->setFocus();
    QTest::keyClick(ram, Qt::Key_PageDown);  // 100% -> 90%, one edit
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kJobTimeoutMs);
    const auto weaker = finished.front().at(0).value<JobResult>();
    QVERIFY(weaker.baselineFromCache);
    QCOMPARE(weaker.baseline.front(), result.baseline.front());
    QVERIFY(weaker.responsible.front() != result.responsible.front());
    QVERIFY(weaker.parameters.contains("RAM 90%"));
    window_->findChild<QCheckBox*>("liveUpdateCheck")->setChecked(false);
  }

  void saveWritesThePngWithItsParameters() {
    const QString path = home_.filePath("out/picture.png");
    QDir().mkpath(home_.filePath("out"));
    QVERIFY(window_->saveImages(path));
    std::map<std::string, std::string> text;
    const auto image = respo::io::readPng(path.toStdString(), &text);
    QCOMPARE(image.width, 32);
    QVERIFY(text.count("parameters"));
    QVERIFY(QString::fromStdString(text["parameters"]).contains("RespoDiff"));
    std::map<std::string, std::string> baselineText;
    respo::io::readPng(home_.filePath("out/picture-baseline.png").toStdString(), &baselineText);
    QVERIFY(!QString::fromStdString(baselineText["parameters"]).contains("RespoDiff"));
  }

  void aLoraFromTheListChangesThePictureAndIsRecorded() {
    setSteps(3);
    window_->findChild<QSpinBox*>("seedSpin")->setValue(5);
    auto* prompt = window_->findChild<QPlainTextEdit*>("promptEdit");
    prompt->setPlainText("a photo of a doctor");
    const JobResult plain = generateByClick();
    QCOMPARE(plain.baseline.size(), 1);
    auto* list = window_->findChild<QComboBox*>("loraCombo");
    const int index = list->findData("sd1_kohya");
    QVERIFY(index >= 0);
    QVERIFY(list->itemData(index, Qt::ToolTipRole).toString().endsWith("styles/sd1_kohya.safetensors"));
    list->setCurrentIndex(index);
    window_->findChild<QDoubleSpinBox*>("loraWeightSpin")->setValue(0.8);
    QTest::mouseClick(window_->findChild<QToolButton*>("addLoraButton"), Qt::LeftButton);
    QCOMPARE(prompt->toPlainText(), QString("a photo of a doctor <lora:sd1_kohya:0.8>"));
    const JobResult withLora = generateByClick();
    QCOMPARE(withLora.baseline.size(), 1);
    QVERIFY(!withLora.baselineFromCache);
    QVERIFY(withLora.baseline.front() != plain.baseline.front());  // the LoRA changes both sides
    QVERIFY(withLora.parameters.startsWith("a photo of a doctor <lora:sd1_kohya:0.8>\n"));
    QVERIFY(QRegularExpression("Lora hashes: \"sd1_kohya: [0-9a-f]{12}\"").match(withLora.parameters).hasMatch());
    // A tag without its file is an error that names it; the app stays usable.
    QSignalSpy errors(window_.get(), &MainWindow::errorShown);
    prompt->setPlainText("a photo of a doctor <lora:not_installed:1>");
    QTest::mouseClick(button("generateButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(errors.count(), 1, kJobTimeoutMs);
    QVERIFY(errors.front().at(1).toString().contains("no LoRA named 'not_installed'"));
    if (auto* box = window_->findChild<QMessageBox*>("errorBox")) box->close();
    QTRY_VERIFY(!window_->isBusy());
    prompt->setPlainText("a photo of a doctor");
  }

  void aDroppedPictureStartsImageToImage() {
    setSteps(4);
    window_->findChild<QSpinBox*>("seedSpin")->setValue(6);
    window_->findChild<QPlainTextEdit*>("promptEdit")->setPlainText("a watercolor of a doctor");
    const JobResult plain = generateByClick();
    // The last picture, saved, dropped on the settings as a file.
    const QString path = home_.filePath("start.png");
    QVERIFY(plain.baseline.front().save(path));
    auto* form = window_->findChild<respo::ui::ParameterForm*>();
    QVERIFY(form);
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(path)});
    QDragEnterEvent enter(QPoint(5, 5), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(form, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(5, 5), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(form, &drop);
    QVERIFY(form->hasInitImage());
    QVERIFY(window_->findChild<QLabel*>("initImageLabel")->text().startsWith("start.png (32x32)"));
    auto* strength = window_->findChild<QDoubleSpinBox*>("strengthSpin");
    QVERIFY(strength->isEnabled());
    strength->setValue(0.5);
    const JobResult fromPicture = generateByClick();
    QVERIFY(!fromPicture.baselineFromCache);
    QVERIFY(fromPicture.baseline.front() != plain.baseline.front());
    QVERIFY(fromPicture.parameters.contains("Denoising strength: 0.5"));
    // Inpainting: paint a stroke across the middle of the picture in the mask painter, OK.
    QTest::mouseClick(window_->findChild<QToolButton*>("paintMaskButton"), Qt::LeftButton);
    auto* painter = window_->findChild<respo::ui::MaskPainterDialog*>("maskPainterDialog");
    QVERIFY(painter);
    QTRY_VERIFY(painter->isVisible());
    auto* canvas = painter->canvas();
    const QPoint left(canvas->width() / 4, canvas->height() / 2), right(3 * canvas->width() / 4, canvas->height() / 2);
    QTest::mousePress(canvas, Qt::LeftButton, Qt::NoModifier, left);
    QMouseEvent move(QEvent::MouseMove, QPointF(right), canvas->mapToGlobal(QPointF(right)), Qt::NoButton,
                     Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(canvas, &move);
    QTest::mouseRelease(canvas, Qt::LeftButton, Qt::NoModifier, right);
    const QImage painted = canvas->mask();
    QCOMPARE(painted.size(), QSize(32, 32));
    QCOMPARE(qGray(painted.pixel(16, 16)), 255);  // on the stroke: repainted
    QCOMPARE(qGray(painted.pixel(16, 1)), 0);     // far from it: kept
    painter->findChild<QSpinBox*>("maskBlurSpin")->setValue(3);
    painter->accept();
    QVERIFY(!form->mask().isNull());
    QVERIFY(window_->findChild<QLabel*>("initImageLabel")->text().endsWith(", masked"));
    const JobResult inpainted = generateByClick();
    QVERIFY(!inpainted.baselineFromCache);
    QVERIFY(inpainted.baseline.front() != fromPicture.baseline.front());
    QVERIFY(inpainted.parameters.contains("Denoising strength: 0.5, Mask blur: 3"));
    // A file that is not a picture changes nothing; Clear goes back to text to image.
    std::ofstream(home_.filePath("not-a-picture.png").toStdString()) << "plain text";
    QVERIFY(!form->setInitImage(home_.filePath("not-a-picture.png")));
    QVERIFY(form->hasInitImage());
    QTest::mouseClick(window_->findChild<QToolButton*>("clearInitImageButton"), Qt::LeftButton);
    QVERIFY(!form->hasInitImage());
    QVERIFY(!strength->isEnabled());
    const JobResult again = generateByClick();
    QVERIFY(!again.parameters.contains("Denoising strength"));
    QCOMPARE(again.baseline.front(), plain.baseline.front());
  }

  void cancellingMidRunLeavesTheAppUsable() {
    setSteps(400);
    QSignalSpy steps(window_->worker(), &respo::ui::GenerationWorker::stepProgressed);
    QSignalSpy cancelled(window_->worker(), &respo::ui::GenerationWorker::jobCancelled);
    QSignalSpy finished(window_->worker(), &respo::ui::GenerationWorker::jobFinished);
    window_->findChild<QSpinBox*>("seedSpin")->setValue(99);  // not cached
    QTest::mouseClick(button("generateButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(steps.count() >= 2, kJobTimeoutMs);
    QTRY_VERIFY(button("cancelButton")->isEnabled());
    window_->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window_.get()));
    QTest::keyClick(window_.get(), Qt::Key_Escape);  // the Cancel shortcut
    QTRY_COMPARE_WITH_TIMEOUT(cancelled.count(), 1, kJobTimeoutMs);
    QTRY_VERIFY(!window_->isBusy());  // once the window has seen it
    QCOMPARE(finished.count(), 0);
    QVERIFY(!button("cancelButton")->isEnabled());

    setSteps(3);
    const JobResult again = generateByClick();
    QCOMPARE(again.responsible.size(), 1);
  }

  void aBadModelFileShowsAnErrorAndKeepsThePreviousModel() {
    const QString bad = home_.filePath("broken.safetensors");
    std::ofstream(bad.toStdString()) << "\x10\x00\x00\x00\x00\x00\x00\x00{not json at all";
    QSignalSpy errors(window_.get(), &MainWindow::errorShown);
    window_->openModel(bad);
    QTRY_COMPARE_WITH_TIMEOUT(errors.count(), 1, kJobTimeoutMs);
    QVERIFY(errors.front().at(1).toString().contains("broken.safetensors"));
    auto* box = window_->findChild<QMessageBox*>("errorBox");
    QVERIFY(box);
    QVERIFY(box->isVisible());
    QVERIFY(box->text().contains("Still using"));
    box->close();
    QCOMPARE(window_->currentModel(), QString(RESPODIFF_TEST_MODEL));
    setSteps(2);
    QCOMPARE(generateByClick().responsible.size(), 1);
  }
};

QTEST_MAIN(TestStudioGeneration)
#include "test_studio_generation.moc"
