#pragma once
// Painting an inpainting mask over the input picture: the left button paints the region to repaint
// (shown in translucent red), the right button erases; the brush size is adjustable. The mask is the
// picture's size, white where repainted and black where kept, as the engine reads masks.
#include <QDialog>
#include <QImage>
#include <QWidget>

class QSpinBox;

namespace respo::ui {

class MaskCanvas : public QWidget {
  Q_OBJECT
 public:
  MaskCanvas(const QImage& picture, const QImage& mask, QWidget* parent = nullptr);
  QImage mask() const { return mask_; }  // Format_Grayscale8, the picture's size
  void setBrush(int radiusPixels) { brush_ = radiusPixels; }
  void clear();
  void fillAll();
  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;

 private:
  QRectF pictureRect() const;  // where the picture is drawn, scaled to fit and centred
  void stroke(const QPointF& widgetPos, bool paint);
  QImage picture_;
  QImage mask_;
  int brush_ = 8;
  bool painting_ = false, erasing_ = false;
  QPointF last_;
};

// The dialog around the canvas: brush size, Clear, Fill, OK / Cancel.
class MaskPainterDialog : public QDialog {
  Q_OBJECT
 public:
  MaskPainterDialog(const QImage& picture, const QImage& mask, double blur, QWidget* parent = nullptr);
  QImage mask() const;
  double blur() const;  // the mask's edge blur in pixels (Pillow's GaussianBlur radius)
  MaskCanvas* canvas() const { return canvas_; }

 private:
  MaskCanvas* canvas_ = nullptr;
  QSpinBox* brush_ = nullptr;
  QSpinBox* blur_ = nullptr;
};

}  // namespace respo::ui
