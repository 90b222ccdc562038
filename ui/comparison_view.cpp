#include "ui/comparison_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QSlider>
#include <QVBoxLayout>
#include <cmath>
#include <cstdlib>

namespace respo::ui {

// Paints the two images; all state lives here, the view only wires controls to it.
class ComparisonCanvas : public QWidget {
 public:
  explicit ComparisonCanvas(QWidget* parent) : QWidget(parent) {
    setObjectName("comparisonCanvas");
    setMinimumSize(256, 160);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  }

  QImage baseline, responsible, difference;
  ComparisonView::Mode mode = ComparisonView::Mode::SideBySide;
  bool showDifference = false;
  int wipePercent = 50;

 protected:
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    p.fillRect(rect(), palette().window());
    const QImage& right = showDifference && !difference.isNull() ? difference : responsible;
    if (baseline.isNull() && right.isNull()) {
      p.setPen(palette().color(QPalette::PlaceholderText));
      p.drawText(rect(), Qt::AlignCenter, tr("Baseline and responsible images appear here"));
      return;
    }
    if (mode == ComparisonView::Mode::SideBySide) {
      const int gap = 8, half = (width() - gap) / 2;
      drawFitted(p, QRect(0, 0, half, height() - 18), baseline);
      drawFitted(p, QRect(half + gap, 0, half, height() - 18), right);
      p.setPen(palette().color(QPalette::WindowText));
      p.drawText(QRect(0, height() - 16, half, 16), Qt::AlignCenter, tr("Baseline"));
      p.drawText(QRect(half + gap, height() - 16, half, 16), Qt::AlignCenter,
                 showDifference ? tr("Difference") : tr("Responsible"));
      return;
    }
    // Wipe: one frame, the baseline left of the line and the responsible image right of it.
    const QRect frame = fittedRect(QRect(0, 0, width(), height()), baseline.isNull() ? right.size() : baseline.size());
    const int split = frame.left() + frame.width() * wipePercent / 100;
    p.save();
    p.setClipRect(QRect(frame.topLeft(), QPoint(split, frame.bottom())));
    drawInto(p, frame, baseline);
    p.setClipRect(QRect(QPoint(split, frame.top()), frame.bottomRight()));
    drawInto(p, frame, right);
    p.restore();
    p.setPen(QPen(Qt::white, 2));
    p.drawLine(split, frame.top(), split, frame.bottom());
  }

 private:
  static QRect fittedRect(const QRect& area, QSize size) {
    if (size.isEmpty()) return area;
    size.scale(area.size(), Qt::KeepAspectRatio);
    return QRect(area.left() + (area.width() - size.width()) / 2, area.top() + (area.height() - size.height()) / 2,
                 size.width(), size.height());
  }
  static void drawInto(QPainter& p, const QRect& target, const QImage& image) {
    if (image.isNull()) return;
    // Small toy-model images stay crisp when enlarged; large ones are smoothed.
    p.setRenderHint(QPainter::SmoothPixmapTransform, target.width() < image.width() * 2);
    p.drawImage(target, image);
  }
  static void drawFitted(QPainter& p, const QRect& area, const QImage& image) {
    if (!image.isNull()) drawInto(p, fittedRect(area, image.size()), image);
  }
};

ComparisonView::ComparisonView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  canvas_ = new ComparisonCanvas(this);
  layout->addWidget(canvas_, 1);

  auto* controls = new QHBoxLayout;
  mode_ = new QComboBox(this);
  mode_->setObjectName("comparisonModeCombo");
  mode_->addItem(tr("Side by side"));
  mode_->addItem(tr("Wipe"));
  wipe_ = new QSlider(Qt::Horizontal, this);
  wipe_->setObjectName("wipeSlider");
  wipe_->setRange(0, 100);
  wipe_->setValue(50);
  wipe_->setEnabled(false);
  wipe_->setToolTip(tr("Drag to wipe between the baseline (left) and the responsible image (right)"));
  difference_ = new QCheckBox(tr("Difference"), this);
  difference_->setObjectName("differenceCheck");
  difference_->setToolTip(tr("Show where the responsible image differs from the baseline (amplified)"));
  controls->addWidget(new QLabel(tr("View"), this));
  controls->addWidget(mode_);
  controls->addWidget(wipe_, 1);
  controls->addWidget(difference_);
  layout->addLayout(controls);

  connect(mode_, &QComboBox::currentIndexChanged, this, [this](int index) { setMode(static_cast<Mode>(index)); });
  connect(wipe_, &QSlider::valueChanged, this, [this](int value) {
    canvas_->wipePercent = value;
    canvas_->update();
  });
  connect(difference_, &QCheckBox::toggled, this, &ComparisonView::setDifferenceShown);
}

void ComparisonView::setImages(const QList<QImage>& baseline, const QList<QImage>& responsible) {
  canvas_->baseline = grid(baseline);
  canvas_->responsible = grid(responsible);
  canvas_->difference = differenceImage(canvas_->baseline, canvas_->responsible);
  canvas_->update();
}

void ComparisonView::setPreview(const QImage& preview, bool responsibleSide) {
  (responsibleSide ? canvas_->responsible : canvas_->baseline) = preview;
  canvas_->difference = QImage();
  canvas_->update();
}

void ComparisonView::clear() { setImages({}, {}); }

QImage ComparisonView::baseline() const { return canvas_->baseline; }
QImage ComparisonView::responsible() const { return canvas_->responsible; }
QImage ComparisonView::difference() const { return canvas_->difference; }

void ComparisonView::setMode(Mode mode) {
  canvas_->mode = mode;
  mode_->setCurrentIndex(static_cast<int>(mode));
  wipe_->setEnabled(mode == Mode::Wipe);
  canvas_->update();
}

ComparisonView::Mode ComparisonView::mode() const { return canvas_->mode; }

void ComparisonView::setDifferenceShown(bool shown) {
  canvas_->showDifference = shown;
  difference_->setChecked(shown);
  canvas_->update();
}

QImage ComparisonView::grid(const QList<QImage>& images) {
  if (images.isEmpty()) return {};
  if (images.size() == 1) return images.front();
  const int columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(images.size()))));
  const int rows = (static_cast<int>(images.size()) + columns - 1) / columns;
  const QSize cell = images.front().size();
  const int gap = std::max(1, cell.width() / 32);
  QImage out(columns * cell.width() + (columns - 1) * gap, rows * cell.height() + (rows - 1) * gap,
             QImage::Format_RGB888);
  out.fill(Qt::white);
  QPainter p(&out);
  for (int i = 0; i < images.size(); ++i)
    p.drawImage(QPoint((i % columns) * (cell.width() + gap), (i / columns) * (cell.height() + gap)), images[i]);
  return out;
}

QImage ComparisonView::differenceImage(const QImage& a, const QImage& b) {
  if (a.isNull() || b.isNull() || a.size() != b.size()) return {};
  const QImage x = a.convertToFormat(QImage::Format_RGB888), y = b.convertToFormat(QImage::Format_RGB888);
  QImage out(x.size(), QImage::Format_RGB888);
  for (int row = 0; row < x.height(); ++row) {
    const uchar* p = x.constScanLine(row);
    const uchar* q = y.constScanLine(row);
    uchar* o = out.scanLine(row);
    // x4 so that the small changes a strength makes are visible.
    for (int i = 0; i < x.width() * 3; ++i) o[i] = static_cast<uchar>(std::min(255, 4 * std::abs(p[i] - q[i])));
  }
  return out;
}

}  // namespace respo::ui
